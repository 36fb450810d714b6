"""A scripted OpenAI-compatible chat-completions server for the OpenCode tests.

The one test double the design allows: these machines reach no model API, so
the tests give OpenCode this "model" instead. It speaks the streaming
`POST <base>/chat/completions` protocol (SSE `data:` chunks, then
`data: [DONE]`), including tool calls, and records every request it gets
(path, headers, body) so tests can assert what OpenCode sent.

Scripting: each test queues *turns* with `script()`. A request that offers
tools (the agent's main loop) takes the next turn:
  {"tool": "write_file", "args": {...}}  -> one tool call; the name is matched
        against the offered tools (exact name, else the one ending in
        "_<name>", so "write_file" finds "hivebox_write_file"); an unknown
        name is sent as is (used to call a tool OpenCode does not offer)
  {"tool_exact": "bash", "args": {...}}  -> a tool call with exactly that name
  {"text": "..."}                         -> a text answer, streamed word by word
  a text turn may add "delay": seconds between two streamed words (default 0.02),
        so a test can watch an answer arrive piece by piece, or abort it;
        "hold_last": seconds to wait before the last word, so the part
        before it is on screen for that long even on a loaded host
With no turn left the model answers "done." A request without tools (title
or summary generation) is answered with a short text and takes no turn.

HTTP control, for tests that run in another process (the browser specs get
the base URL as HB_FAKE_LLM):
  POST <base>/_script {"turns": [...], "model": "m"}  queue turns (the same
        objects as script()); with "model", only requests for that model take
        them (a test that creates its sandbox with its own llm_model gets a
        queue nobody else drains), else the shared queue
        "title": "..." sets the text that model answers requests without tools
        with (OpenCode's session titles), instead of "Scripted title"
  POST <base>/_reset {"model": "m"}   forget that model's turns (all without)
  GET  <base>/_state?model=m          {"turns_left": n, "requests": n}
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeLLM:
    def __init__(self, host="127.0.0.1", port=0):
        self._lock = threading.Lock()
        self._turns = []
        self._model_turns = {}   # model name -> its own queue (HTTP control)
        self._titles = {}        # model name -> its answer to requests without tools
        self.requests = []   # dicts: path, headers (lower-case keys), body (parsed JSON)
        self._srv = ThreadingHTTPServer((host, port), self._handler_class())
        self._srv.daemon_threads = True
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True)

    # -- lifecycle
    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._srv.shutdown()
        self._srv.server_close()

    @property
    def port(self):
        return self._srv.server_address[1]

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    # -- scripting
    def script(self, *turns, model=None):
        with self._lock:
            if model is None:
                self._turns.extend(turns)
            else:
                self._model_turns.setdefault(model, []).extend(turns)

    def reset(self, model=None):
        with self._lock:
            if model is not None:
                self._model_turns.pop(model, None)
                self._titles.pop(model, None)
                return
            self._turns.clear()
            self._model_turns.clear()
            self._titles.clear()
            self.requests.clear()

    def turns_left(self, model=None):
        with self._lock:
            if model is not None:
                return len(self._model_turns.get(model, []))
            return len(self._turns)

    def agent_requests(self):
        """Recorded chat requests that offered tools (the agent loop)."""
        with self._lock:
            return [r for r in self.requests if r["body"].get("tools")]

    def chat_requests(self):
        with self._lock:
            return [r for r in self.requests if r["path"].endswith("/chat/completions")]

    def _next_turn(self, model=None):
        with self._lock:
            if model in self._model_turns:
                q = self._model_turns[model]
                return q.pop(0) if q else None
            return self._turns.pop(0) if self._turns else None

    def _record(self, path, headers, body):
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "body": body,
                                  "time": time.time()})

    # -- HTTP
    def _handler_class(self):
        llm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                if self.path.split("?", 1)[0].endswith("/_state"):
                    return self._state()
                headers = {k.lower(): v for k, v in self.headers.items()}
                llm._record(self.path, headers, {})
                if self.path.rstrip("/").endswith("/models"):
                    return self._json(200, {"object": "list", "data": [
                        {"id": "scripted-model", "object": "model", "owned_by": "hivebox-tests"}]})
                self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n) if n else b""
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"_raw": raw.decode(errors="replace")}
                if self.path.endswith("/_script") or self.path.endswith("/_reset"):
                    return self._control(body)
                headers = {k.lower(): v for k, v in self.headers.items()}
                llm._record(self.path, headers, body)
                if not self.path.endswith("/chat/completions"):
                    return self._json(404, {"error": {"message": "not found"}})
                tools = body.get("tools") or []
                if tools:
                    turn = llm._next_turn(body.get("model"))
                else:
                    with llm._lock:
                        turn = {"text": llm._titles.get(body.get("model"), "Scripted title")}
                if turn is None:
                    turn = {"text": "done."}
                model = body.get("model", "scripted-model")
                if body.get("stream"):
                    try:
                        self._stream(model, turn, tools)
                    except (BrokenPipeError, ConnectionResetError):
                        self.close_connection = True   # the client aborted the answer
                else:
                    self._whole(model, turn, tools)

            # -- control (not recorded: the tests' requests are the model's)
            def _control(self, body):
                model = body.get("model") if isinstance(body, dict) else None
                if model is not None and not isinstance(model, str):
                    return self._json(400, {"error": {"message": "model: a string"}})
                if self.path.endswith("/_reset"):
                    llm.reset(model)
                    return self._json(200, {"turns_left": llm.turns_left(model)})
                turns = body.get("turns", []) if isinstance(body, dict) else None
                title = body.get("title") if isinstance(body, dict) else None
                if title is not None:
                    if not isinstance(title, str) or model is None:
                        return self._json(400, {"error": {"message": "title: a string, with a model"}})
                    with llm._lock:
                        llm._titles[model] = title
                if not isinstance(turns, list) or not all(
                        isinstance(t, dict) and ("text" in t or "tool" in t or "tool_exact" in t)
                        for t in turns):
                    return self._json(400, {"error": {"message":
                                      'turns: a list of {"text"}, {"tool"} or {"tool_exact"}'}})
                llm.script(*turns, model=model)
                self._json(200, {"turns_left": llm.turns_left(model)})

            def _state(self):
                model = parse_qs(urlsplit(self.path).query).get("model", [None])[0]
                with llm._lock:
                    n = len(llm.requests)
                self._json(200, {"turns_left": llm.turns_left(model), "requests": n})

            # -- answers
            def _json(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _tool_call(self, turn, tools):
                if "tool_exact" in turn:
                    name = turn["tool_exact"]
                else:
                    offered = [t.get("function", {}).get("name", "") for t in tools]
                    want = turn["tool"]
                    name = want if want in offered else next(
                        (o for o in offered if o.endswith("_" + want)), want)
                return {"id": "call_" + str(int(time.time() * 1e6)), "type": "function",
                        "function": {"name": name, "arguments": json.dumps(turn.get("args", {}))}}

            def _chunk(self, model, delta, finish=None):
                return {"id": "chatcmpl-scripted", "object": "chat.completion.chunk",
                        "created": int(time.time()), "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

            def _send_event(self, obj):
                data = obj if isinstance(obj, str) else json.dumps(obj)
                self.wfile.write(f"data: {data}\n\n".encode())
                self.wfile.flush()

            def _stream(self, model, turn, tools):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                self._send_event(self._chunk(model, {"role": "assistant", "content": ""}))
                if "text" in turn:
                    words = turn["text"].split(" ")
                    for i, w in enumerate(words):
                        piece = w if i == 0 else " " + w
                        if i and i == len(words) - 1:
                            time.sleep(float(turn.get("hold_last", 0)))
                        self._send_event(self._chunk(model, {"content": piece}))
                        time.sleep(float(turn.get("delay", 0.02)))
                    finish = "stop"
                else:
                    call = self._tool_call(turn, tools)
                    call["index"] = 0
                    self._send_event(self._chunk(model, {"tool_calls": [call]}))
                    finish = "tool_calls"
                self._send_event(self._chunk(model, {}, finish))
                self._send_event({"id": "chatcmpl-scripted", "object": "chat.completion.chunk",
                                  "created": int(time.time()), "model": model, "choices": [],
                                  "usage": {"prompt_tokens": 10, "completion_tokens": 5,
                                            "total_tokens": 15}})
                self._send_event("[DONE]")

            def _whole(self, model, turn, tools):
                msg = {"role": "assistant", "content": turn.get("text")}
                finish = "stop"
                if "text" not in turn:
                    msg["tool_calls"] = [self._tool_call(turn, tools)]
                    finish = "tool_calls"
                self._json(200, {"id": "chatcmpl-scripted", "object": "chat.completion",
                                 "created": int(time.time()), "model": model,
                                 "choices": [{"index": 0, "message": msg,
                                              "finish_reason": finish}],
                                 "usage": {"prompt_tokens": 10, "completion_tokens": 5,
                                           "total_tokens": 15}})

        return Handler


if __name__ == "__main__":  # manual use: python3 fake_llm.py PORT
    import sys
    srv = FakeLLM(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0).start()
    print(f"fake LLM at {srv.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()
