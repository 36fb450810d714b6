"""Syscall probe run INSIDE a sandbox (uploaded through the files API).

Each probe calls one dangerous syscall through libc's syscall() with
arguments chosen so that a call which reaches the kernel fails harmlessly
with a *different* errno (EFAULT, EBADF, EINVAL, ...) than a seccomp
refusal (EPERM, or ENOSYS for clone3/io_uring) -- bubblewrap's try-syscall
trick. Nothing here can change the host even if a filter were missing:
pointers are NULL, fds are invalid, values are the current ones.

Prints one JSON object {probe: [return value, errno]}. x86_64 numbers.
"""
import ctypes
import json
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def arg(a):
    if isinstance(a, bytes):
        return ctypes.c_char_p(a)
    if a is None:
        return ctypes.c_void_p(0)
    return ctypes.c_long(a)


def sc(nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(ctypes.c_long(nr), *[arg(a) for a in args])
    return [int(r), ctypes.get_errno()]


def ns_fd(kind):
    try:
        return os.open(f"/proc/self/ns/{kind}", os.O_RDONLY)
    except OSError:
        return -1


MS_BIND, MS_REMOUNT, MNT_DETACH = 4096, 32, 2
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x20000, 0x10000000, 0x40000000
CLONE_NEWPID, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWCGROUP = 0x20000000, 0x04000000, 0x08000000, 0x02000000
SIGCHLD = 17
os.makedirs("/tmp/probe-mnt", exist_ok=True)

P = {}
P["mount_tmpfs"] = sc(165, b"none", b"/tmp/probe-mnt", b"tmpfs", 0, None)
P["mount_proc"] = sc(165, b"proc", b"/tmp/probe-mnt", b"proc", 0, None)
P["mount_bind"] = sc(165, b"/", b"/tmp/probe-mnt", None, MS_BIND, None)
P["mount_remount_root"] = sc(165, None, b"/", None, MS_REMOUNT, None)
P["umount_proc"] = sc(166, b"/proc", MNT_DETACH)
P["umount_root"] = sc(166, b"/", MNT_DETACH)
P["unshare_user"] = sc(272, CLONE_NEWUSER)
P["unshare_net"] = sc(272, CLONE_NEWNET)
P["unshare_mnt"] = sc(272, CLONE_NEWNS)
P["unshare_pid"] = sc(272, CLONE_NEWPID)
fd = ns_fd("net")
P["setns_net"] = sc(308, fd, CLONE_NEWNET)
fd = ns_fd("mnt")
P["setns_mnt"] = sc(308, fd, CLONE_NEWNS)
P["setns_badfd"] = sc(308, -1, 0)
P["ptrace_attach_1"] = sc(101, 16, 1, None, None)         # PTRACE_ATTACH
P["bpf_prog_load"] = sc(321, 5, None, 0)                  # BPF_PROG_LOAD, NULL attr
P["bpf_map_create"] = sc(321, 0, None, 0)
P["keyctl"] = sc(250, 0, -3, 0)                           # GET_KEYRING_ID(session)
P["add_key"] = sc(248, None, None, None, 0, -3)           # NULL type: EFAULT if reached
P["request_key"] = sc(249, None, None, None, 0)
P["userfaultfd"] = sc(323, 0)
P["io_uring_setup"] = sc(425, 1, None)                    # NULL params: EFAULT if reached
P["io_uring_enter"] = sc(426, -1, 0, 0, 0, None, 0)
P["io_uring_register"] = sc(427, -1, 0, None, 0)
P["clone3"] = sc(435, None, 0)                            # EINVAL/EFAULT if reached
P["init_module"] = sc(175, None, 0, b"")
P["finit_module"] = sc(313, -1, b"", 0)
P["delete_module"] = sc(176, b"hb_no_such_module", 0)
# reboot(CAD_OFF) with the right magic: in a non-init pid namespace a call that
# reached the kernel with CAP_SYS_BOOT would answer EINVAL, never reboot.
P["reboot"] = sc(169, 0xfee1dead, 672274793, 0, None)
P["clock_settime"] = sc(227, 0, None)                     # NULL timespec: EFAULT if reached
P["settimeofday"] = sc(164, None, None)
P["kexec_load"] = sc(246, 0, 0, None, 0)
P["kexec_file_load"] = sc(320, -1, -1, 0, None, 0)
P["open_by_handle_at"] = sc(304, -1, None, 0)
P["pivot_root"] = sc(155, b"/tmp", b"/tmp")
P["swapon"] = sc(167, b"/tmp/hb-no-swap", 0)
P["sethostname"] = sc(170, b"evil", 4)
P["fsopen"] = sc(430, b"tmpfs", 0)
P["open_tree"] = sc(428, -100, b"/", 1)                   # OPEN_TREE_CLONE
for name, flags in (("clone_newuser", CLONE_NEWUSER), ("clone_newns", CLONE_NEWNS)):
    P[name] = sc(56, flags | SIGCHLD, None, None, None, 0)
    if P[name][0] == 0:
        os._exit(0)  # a child was really created: it must not print
    if P[name][0] > 0:
        os.waitpid(P[name][0], 0)
P["socket_raw"] = sc(41, 2, 3, 1)                         # AF_INET, SOCK_RAW, ICMP
P["socket_packet"] = sc(41, 17, 3, 0x0300)                # AF_PACKET, SOCK_RAW, ETH_P_ALL
P["socket_alg"] = sc(41, 38, 5, 0)                         # AF_ALG, SOCK_SEQPACKET (kernel crypto)
P["socket_vsock"] = sc(41, 40, 1, 0)                       # AF_VSOCK: not network-namespaced
P["mknod_block"] = sc(133, b"/tmp/hb-blk", 0o060600, (8 << 8) | 0)
P["mknod_char_mem"] = sc(133, b"/tmp/hb-mem", 0o020600, (1 << 8) | 1)
P["mknod_fifo"] = sc(133, b"/tmp/hb-fifo", 0o010600, 0)   # allowed: FIFOs are harmless
# personality: only Moby's values (0, PER_LINUX32, UNAME26 and the 0xffffffff
# query); a refused call returns -1, an allowed one the previous persona.
PER_QUERY = 0xFFFFFFFF
for name, persona in (("personality_addr_no_randomize", 0x0040000),
                      ("personality_read_implies_exec", 0x0400000),
                      ("personality_mmap_page_zero", 0x0100000),
                      ("personality_high_bits", 0x100000000 | 0x0040000)):
    P[name] = sc(135, persona)
    sc(135, 0)                                            # back to PER_LINUX if it took
P["personality_query"] = sc(135, PER_QUERY)
# netlink: only ROUTE, SOCK_DIAG and GENERIC (AF_NETLINK=16, SOCK_RAW=3).
for name, proto in (("netlink_netfilter", 12), ("netlink_xfrm", 6), ("netlink_crypto", 21),
                    ("netlink_audit", 9), ("netlink_kobject_uevent", 15), ("netlink_connector", 11),
                    ("netlink_rdma", 20), ("netlink_proto_high_bits", (1 << 32) | 12),
                    ("netlink_route", 0), ("netlink_sock_diag", 4), ("netlink_generic", 16)):
    P[name] = sc(41, 16, 3, proto)
    if P[name][0] >= 0:
        os.close(P[name][0])
        P[name][0] = 0
try:
    t = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
    c = ctypes.c_char(b"x")
    P["ioctl_tiocsti"] = sc(16, t, 0x5412, ctypes.addressof(c))
    P["ioctl_tiocsti_hibits"] = sc(16, t, 0x100005412, ctypes.addressof(c))
except OSError as exc:
    P["ioctl_tiocsti"] = P["ioctl_tiocsti_hibits"] = [-1, exc.errno]
try:
    os.open("/proc/1/mem", os.O_RDWR)
    P["open_proc1_mem_rw"] = [0, 0]
except OSError as exc:
    P["open_proc1_mem_rw"] = [-1, exc.errno]

json.dump(P, sys.stdout)
