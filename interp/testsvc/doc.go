// Package testsvc starts small local network services that notebook cells talk to instead of
// hosts on the internet: a web server that takes its time, an echo server, a server that sends
// a few bytes at a time, and one that hangs up halfway through its reply. A lesson about
// sockets then runs the same everywhere, offline, in the browser and under `loopbook run`.
//
// Cells import it by its short path:
//
//	import "testsvc"
//
//	srv := testsvc.SlowHTTP(2 * time.Second) // answers every request after 2 s
//	defer srv.Close()
//	s, _ := loop.NewSocket()
//	s.Connect(srv.Addr())                    // "127.0.0.1:41327"
//
// Every starter is one call that returns a running *Server. Servers listen on 127.0.0.1 only,
// on a port the operating system picks, and serve each connection on its own goroutine, so a
// slow client never delays another. They are native Go running inside the kernel process, not
// work on the notebook's loop: they keep serving while a cell blocks the loop, which is exactly
// what the lessons about blocking need. Close stops one server (and hangs up on its clients);
// CloseAll stops every server started so far; and they all end with the kernel process.
//
// The API is non-generic (the interpreter cannot call compiled generic code), and the
// starters panic instead of returning an error: the only way they fail is the operating system
// refusing a socket on 127.0.0.1 (out of file descriptors), and a cell wants one value.
//
// # The services
//
//   - SlowHTTP(d): an HTTP/1.0 server. It reads the request, waits d, then answers
//     "200 OK" with a Content-Length and closes the connection. A request for
//     /?delay=300ms waits that long instead. A malformed request (a bad request line, a
//     header line without a colon) gets "400 Bad Request" at once.
//   - Echo(): sends back whatever it receives until the client closes.
//   - Drip(text, every): on every connection, sends text one byte at a time, one byte every
//     `every`, then closes: a reader sees a message arrive in pieces.
//   - CloseEarly(): reads the request, sends the start of an HTTP reply whose Content-Length
//     promises more than is sent, and closes: a reader must notice the reply is cut short.
//
// EchoClients is the other side: many blocking clients at once against any echo server, timed,
// for comparing servers.
package testsvc
