#!/usr/bin/python3
"""The man page hivebox(1) and the bash completion, both generated from the
binary's own help (`hivebox --help`, `hivebox daemon --help`; the latter is
built from actors/config.def), so neither can drift from the CLI.

    tools/gen_cli_docs.py --hivebox build/hivebox --man build/hivebox.1 \
        --completion build/hivebox.bash [--prefix /usr/local] [--unitdir DIR]

Used by `make install`; tests/e2e/test_install.py renders and loads both."""
import argparse
import re
import subprocess

FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-zA-Z])(?![\w-])")


def help_text(binary, *args):
    r = subprocess.run([binary, *args, "--help"], capture_output=True, text=True, check=True)
    return r.stdout


# ---- parsing ----------------------------------------------------------

def left_column(line):
    """A command's synopsis without the description column right of it."""
    body = line.lstrip()
    return re.split(r" {2,}", body)[0]


def parse_cli(text):
    """{command: [flags]}, {'image': [subcommands]}, [global flags] from
    `hivebox --help`. A command line starts with two spaces and a word; the
    lines indented deeper continue it."""
    cmds, subs, globals_ = {}, {}, []
    current = None
    for line in text.splitlines():
        if line.startswith("Common options"):
            current = None
            globals_ += FLAG.findall(line)
            continue
        if current is None and globals_:
            globals_ += FLAG.findall(line)
            continue
        m = re.match(r"^  ([a-z][a-z0-9-]*)(?: ([a-z][a-z0-9-]*))?", line)
        if m and not line.startswith("   "):
            current = m.group(1)
            cmds.setdefault(current, [])
            image_subs = subs.setdefault("image", [])
            if current == "image" and m.group(2) and m.group(2) not in image_subs:
                image_subs.append(m.group(2))   # "image build" has two forms
            for alias in re.match(r"^  [a-z][a-z0-9-]*((?: \| [a-z][a-z0-9-]*)*)",
                                  line).group(1).split(" | ")[1:]:   # "list | ls"
                cmds.setdefault(alias, cmds[current])
            cmds[current] += FLAG.findall(left_column(line))
            if "[create options]" in line:   # run takes create's flags
                cmds[current] += cmds.get("create", [])
        elif current and line.startswith("   ") and len(line) - len(line.lstrip()) < 20:
            cmds[current] += FLAG.findall(left_column(line))   # create's continuation lines
    for k in cmds:
        cmds[k] = sorted(set(cmds[k]))
    return cmds, subs, sorted(set(globals_))


def parse_daemon(text):
    """[(head, help)] entries of `hivebox daemon --help`, and the intro."""
    intro, entries = [], []
    for line in text.splitlines():
        if line.startswith("      ") and entries:
            entries[-1][1].append(line.strip())
        elif line.startswith("  ") and line.strip():
            entries.append((line.strip(), []))
        elif not entries and line.strip() and not line.startswith("usage:"):
            intro.append(line.strip())
    return intro, [(h, " ".join(t)) for h, t in entries]


def daemon_choices(entries):
    """{--flag: [choices]} for settings shown as `--flag a|b|c`."""
    out = {}
    for head, _ in entries:
        m = re.match(r"(--[a-z0-9-]+) ([a-z0-9]+(?:\|[a-z0-9]+)+)", head)
        if m:
            out[m.group(1)] = m.group(2).split("|")
    return out


# ---- the man page -----------------------------------------------------

def roff(text):
    """Plain text to roff: backslashes, minus signs (copy-pasteable flags),
    and a line starting with . or ' (a request otherwise)."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + ln) if ln[:1] in (".", "'") else ln for ln in text.split("\n"))


def bold_names(text):
    return re.sub(r"(\\-\\-[a-z0-9\\-]+|HIVEBOX_[A-Z0-9_]+)", r"\\fB\1\\fR", text)


def man_page(cli_help, daemon_help, prefix, unitdir):
    intro, entries = parse_daemon(daemon_help)
    out = [
        '.TH HIVEBOX 1 "" "HiveBox" "User Commands"',
        ".SH NAME",
        "hivebox \\- Linux sandboxes for AI agents: the daemon and its command\\-line client",
        ".SH SYNOPSIS",
        ".B hivebox",
        ".I COMMAND",
        "[\\fIOPTIONS\\fR]",
        ".br",
        ".B hivebox daemon",
        "[\\fIOPTION\\fR]...",
        ".SH DESCRIPTION",
        "\\fBhivebox daemon\\fR turns this host into a pool of isolated sandboxes (namespaces, "
        "a copy\\-on\\-write root, cgroup limits, a syscall filter) served over a REST API "
        "(port 7070), MCP and a dashboard. Every other command is a client of that API.",
        ".SH COMMANDS",
        "This section is \\fBhivebox \\-\\-help\\fR.",
        ".PP",
        ".nf",
        roff(cli_help.rstrip("\n")),
        ".fi",
        ".SH DAEMON OPTIONS",
        roff(" ".join(intro)),
    ]
    for head, text in entries:
        out += [".TP", bold_names(roff(head)), roff(text)]
    out += [
        ".SH ENVIRONMENT",
        "The client reads \\fBHIVEBOX_API_URL\\fR (default http://127.0.0.1:7070), "
        "\\fBHIVEBOX_API_KEY\\fR and \\fBHIVEBOX_DATA_DIR\\fR; the daemon's variables are "
        "listed under DAEMON OPTIONS.",
        ".SH FILES",
        ".TP",
        f"\\fI{roff(prefix)}/bin/hivebox\\fR",
        "the daemon and the client",
        ".TP",
        f"\\fI{roff(prefix)}/lib/hivebox/hivebox\\-init\\fR",
        "PID 1 of every sandbox (found beside the binary, or set \\fBHIVEBOX_INIT_BIN\\fR)",
        ".TP",
        f"\\fI{roff(prefix)}/lib/hivebox/opencode/\\fR",
        "the pinned OpenCode agent (make install\\-opencode; without it the agent routes answer 503)",
        ".TP",
        f"\\fI{roff(unitdir)}/hivebox.service\\fR",
        "the systemd unit: \\fBsystemctl enable \\-\\-now hivebox\\fR, logs in "
        "\\fBjournalctl \\-u hivebox\\fR",
        ".TP",
        "\\fI/etc/hivebox/env\\fR",
        "the service's settings (mode 0600): the key, OpenCode's LLM settings, any "
        "\\fBHIVEBOX_\\fR variable; other flags in \\fBHIVEBOX_DAEMON_ARGS\\fR",
        ".TP",
        "\\fI/var/lib/hivebox/\\fR",
        "the data dir: images, sandbox state, the generated key (api_key, mode 0600)",
        ".SH SEE ALSO",
        "\\fBsystemctl\\fR(1), \\fBjournalctl\\fR(1); README.md and docs/ in the source tree.",
    ]
    return "\n".join(out) + "\n"


# ---- the bash completion ----------------------------------------------

def completion(cli_help, daemon_help):
    cmds, subs, globals_ = parse_cli(cli_help)
    _, entries = parse_daemon(daemon_help)
    # Global options shown with a value ("--api-url URL") take the next word.
    common = cli_help[cli_help.find("Common options"):]
    valued = sorted(set(re.findall(r"(--[a-z][a-z0-9-]*) [A-Z]+\b", common)))
    dflags = sorted({f for h, _ in entries for f in re.findall(r"--[a-z0-9-]+", h.split("  ")[0])})
    cases = "\n".join(f"        {c}) flags=\"{' '.join(f)}\" ;;" for c, f in sorted(cmds.items())
                      if c not in ("daemon", "image"))
    choices = "\n".join(f"            {f}) COMPREPLY=($(compgen -W \"{' '.join(v)}\" -- \"$cur\")); "
                        f"return ;;" for f, v in sorted(daemon_choices(entries).items()))
    script = f"""# bash completion for hivebox(1). Generated by tools/gen_cli_docs.py from
# `hivebox --help` and `hivebox daemon --help`: do not edit.
_hivebox() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local commands="{' '.join(sorted(cmds))}"
    local globals="{' '.join(globals_)}"
    local flags="" cmd="" i=1
    COMPREPLY=()
    # The command is the first word that is no global option (nor its value).
    while [ "$i" -lt "$COMP_CWORD" ]; do
        case ${{COMP_WORDS[i]}} in
            {'|'.join(valued) or '--'}) i=$((i + 2)) ;;
            -*) i=$((i + 1)) ;;
            *) cmd=${{COMP_WORDS[i]}}; break ;;
        esac
    done
    if [ -z "$cmd" ]; then
        COMPREPLY=($(compgen -W "$commands help $globals" -- "$cur"))
        return
    fi
    case $cmd in
        daemon)
            case $prev in
{choices}
            esac
            flags="{' '.join(dflags)} --help" ;;
        image)
            if [ "$COMP_CWORD" -eq $((i + 1)) ]; then
                COMPREPLY=($(compgen -W "{' '.join(subs.get('image', []))}" -- "$cur"))
                return
            fi ;;
{cases}
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags $globals" -- "$cur"))
    fi
}}
complete -o default -F _hivebox hivebox
"""
    # mapfile, not COMPREPLY=($(...)): no word splitting or globbing surprises.
    return re.sub(r"COMPREPLY=\(\$\((compgen [^)]*)\)\)", r"mapfile -t COMPREPLY < <(\1)", script)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hivebox", required=True)
    ap.add_argument("--man")
    ap.add_argument("--completion")
    ap.add_argument("--prefix", default="/usr/local")
    ap.add_argument("--unitdir", default="/usr/local/lib/systemd/system")
    a = ap.parse_args()
    cli, daemon = help_text(a.hivebox), help_text(a.hivebox, "daemon")
    if a.man:
        with open(a.man, "w") as f:
            f.write(man_page(cli, daemon, a.prefix, a.unitdir))
    if a.completion:
        with open(a.completion, "w") as f:
            f.write(completion(cli, daemon))


if __name__ == "__main__":
    main()
