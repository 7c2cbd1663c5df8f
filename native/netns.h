// Opening sockets inside another network namespace without moving the process.
//
// A network namespace is a per-thread attribute (setns(2) with CLONE_NEWNET on a
// thread affects only that thread), and a socket stays bound to the namespace it
// was created in. So a short-lived thread joins the namespace, creates the socket
// and exits; the caller keeps using the socket from any thread. This lets one
// process drive several namespaces, which the tests and the lab rely on.
#pragma once
#include <string>

namespace vip {

// Returns a socket fd created in the network namespace at `netns_path`
// (for example /run/netns/NAME or /proc/PID/ns/net), or in the caller's own
// namespace when the path is empty. On failure returns -1 and sets *err to an
// errno value and *syscall to the call that failed ("open", "setns", "socket").
int SocketInNetns(const std::string& netns_path, int domain, int type, int protocol,
                  int* err, const char** syscall);

// Moves the calling thread into the namespace (used by the single-threaded guard
// process at start-up). Returns 0 or an errno value.
int EnterNetns(const std::string& netns_path);

}  // namespace vip
