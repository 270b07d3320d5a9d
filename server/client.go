package server

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Websocket limits (DESIGN §4): a browser that stops reading is dropped, never waited for.
const (
	maxMessage   = 8 << 20 // the largest message a browser may send (a cell's source)
	writeTimeout = 10 * time.Second
	pongTimeout  = 60 * time.Second
	pingEvery    = 25 * time.Second
	sendQueue    = 4096 // messages queued for one browser before it counts as stalled
)

// client is one browser tab on one notebook: a reader goroutine that hands messages to the
// session, and the single writer goroutine of the socket.
type client struct {
	conn *websocket.Conn
	out  chan []byte

	once   sync.Once
	closed chan struct{}
}

func newClient(conn *websocket.Conn) *client {
	return &client{conn: conn, out: make(chan []byte, sendQueue), closed: make(chan struct{})}
}

func (c *client) send(typ, req string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		return
	}
	c.sendRaw(typ, req, b)
}

// sendRaw queues a message; a full queue means the browser stopped reading, and it is dropped
// (it reconnects and gets the whole state again).
func (c *client) sendRaw(typ, req string, data []byte) {
	b, err := json.Marshal(Envelope{Type: typ, Req: req, Data: data})
	if err != nil {
		return
	}
	select {
	case c.out <- b:
	case <-c.closed:
	default:
		c.close()
	}
}

func (c *client) close() {
	c.once.Do(func() {
		close(c.closed)
		c.conn.Close()
	})
}

// writer is the only goroutine that writes to the socket.
func (c *client) writer() {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	defer c.close()
	for {
		select {
		case b := <-c.out:
			c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
				return
			}
		case <-ping.C:
			c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		case <-c.closed:
			return
		}
	}
}

// reader reads browser messages until the socket ends, handing each to handle.
func (c *client) reader(handle func(Envelope, error)) {
	defer c.close()
	c.conn.SetReadLimit(maxMessage)
	c.conn.SetReadDeadline(time.Now().Add(pongTimeout))
	c.conn.SetPongHandler(func(string) error {
		c.conn.SetReadDeadline(time.Now().Add(pongTimeout))
		return nil
	})
	for {
		typ, b, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		c.conn.SetReadDeadline(time.Now().Add(pongTimeout))
		if typ != websocket.TextMessage {
			handle(Envelope{}, errBinary)
			continue
		}
		var env Envelope
		if err := json.Unmarshal(b, &env); err != nil {
			handle(Envelope{}, err)
			continue
		}
		handle(env, nil)
	}
}
