package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	"github.com/loopbook/loopbook/kernel"
	"github.com/loopbook/loopbook/web"
)

// Config configures a Server.
type Config struct {
	NotebookDir string        // the user's notebooks
	Shipped     fs.FS         // the shipped notebooks, read-only originals (may be nil)
	Kernel      kernel.Config // how kernels are started
	// Token, when set, is required on every request (as ?token= once, then a cookie). Main sets
	// a random one when listening on a non-loopback address.
	Token string
	// IdleTimeout stops a kernel that has done nothing for this long (0: never).
	IdleTimeout time.Duration
	// CloseGrace keeps a notebook's kernel after its last browser left, so a reload or a
	// reconnect after a network drop finds everything as it was. 0 means 2 minutes.
	CloseGrace time.Duration
	// MaxUpload bounds an uploaded notebook; 0 means 64 MiB.
	MaxUpload int64
}

// Server serves Loopbook: the pages, the notebook API and one websocket per open notebook.
type Server struct {
	cfg   Config
	store *store

	mu       sync.Mutex
	sessions map[string]*session
	closing  bool
}

// New makes a server. The notebooks directory is created if needed.
func New(cfg Config) (*Server, error) {
	if cfg.NotebookDir == "" {
		return nil, errors.New("server: NotebookDir is required")
	}
	if err := os.MkdirAll(cfg.NotebookDir, 0o755); err != nil {
		return nil, fmt.Errorf("server: notebooks directory: %w", err)
	}
	if cfg.CloseGrace == 0 {
		cfg.CloseGrace = 2 * time.Minute
	}
	if cfg.MaxUpload == 0 {
		cfg.MaxUpload = 64 << 20
	}
	return &Server{cfg: cfg, store: &store{dir: cfg.NotebookDir, shipped: cfg.Shipped}, sessions: map[string]*session{}}, nil
}

// NewToken returns a random access token.
func NewToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(s.guard)
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	r.Get("/", s.page)
	r.Get("/nb/*", s.page)
	r.Get("/s/{id}", s.sharePage)
	r.Handle("/static/*", http.StripPrefix("/static/", http.FileServerFS(web.FS())))
	r.Get("/api/notebooks", s.list)
	r.Post("/api/notebooks", s.create)
	r.Post("/api/notebooks/rename", s.rename)
	r.Post("/api/notebooks/duplicate", s.duplicate)
	r.Post("/api/notebooks/delete", s.delete)
	r.Post("/api/open-shipped", s.openShipped)
	r.Post("/api/upload", s.upload)
	r.Get("/api/download/*", s.download)
	r.Get("/api/output/*", s.output)
	r.Post("/api/format", s.format)
	r.Post("/api/share/*", s.share)
	r.Get("/api/shares/{id}", s.shareDownload)
	r.Get("/api/shares/{id}/view", s.shareView)
	r.Get("/api/shares/{id}/output", s.shareOutput)
	r.Post("/api/shares/{id}/copy", s.shareCopy)
	r.Get("/ws/*", s.websocket)
	return r
}

// Close ends every session: outputs are saved, kernels stopped.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	sessions := make([]*session, 0, len(s.sessions))
	for _, ss := range s.sessions {
		sessions = append(sessions, ss)
	}
	s.mu.Unlock()
	for _, ss := range sessions {
		done := make(chan struct{})
		if ss.do(func() {
			for c := range ss.clients {
				c.close()
			}
			ss.shutdown()
			close(done)
		}) {
			<-done
		}
	}
	return nil
}

func (s *Server) forget(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[ss.path] == ss {
		delete(s.sessions, ss.path)
	}
}

// open returns the session of a notebook, loading it on first use.
func (s *Server) open(p string) (*session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil, errors.New("the server is shutting down")
	}
	if ss := s.sessions[p]; ss != nil {
		return ss, nil
	}
	nb, err := s.store.read(p)
	if err != nil {
		return nil, err
	}
	ss := newSession(s, p, nb)
	s.sessions[p] = ss
	return ss, nil
}

// --- security ---

// guard checks the access token (when one is set) and the Host header, and sets the security
// headers of every response.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		if !s.hostAllowed(r.Host) {
			http.Error(w, "unexpected Host header (DNS rebinding protection): open Loopbook by its own address", http.StatusForbidden)
			return
		}
		if s.cfg.Token != "" {
			if t := r.URL.Query().Get("token"); t != "" && s.tokenOK(t) {
				http.SetCookie(w, &http.Cookie{Name: "loopbook_token", Value: t, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
				q := r.URL.Query()
				q.Del("token")
				u := *r.URL
				u.RawQuery = q.Encode()
				http.Redirect(w, r, u.String(), http.StatusSeeOther)
				return
			}
			c, err := r.Cookie("loopbook_token")
			if err != nil || !s.tokenOK(c.Value) {
				http.Error(w, "this Loopbook needs its access token: open the URL it printed at start", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) tokenOK(t string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(s.cfg.Token)) == 1
}

// hostAllowed accepts loopback names and IP literals; with a token, any host (the token is
// the protection then, and the server may sit behind any name).
func (s *Server) hostAllowed(host string) bool {
	if s.cfg.Token != "" {
		return true
	}
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// originOK requires the websocket's Origin to be exactly this server's own origin.
func originOK(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host == r.Host && u.Path == ""
}

// pageCSP confines the app: its own scripts only, plus (by hash) the small script each sandboxed
// HTML output frame carries to report its height; scripts inside outputs never run.
var pageCSP = "default-src 'self'; script-src 'self' " + web.FrameScriptHash() + "; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; frame-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(web.FS(), "index.html")
	if err != nil {
		http.Error(w, "the web UI is missing from this build", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.Write(b)
}

// --- JSON API ---

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int, err error) {
	if errors.Is(err, fs.ErrNotExist) && code == http.StatusBadRequest {
		code = http.StatusNotFound
	}
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

// readJSON decodes a small JSON body.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(v); err != nil {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("bad request body: %v", err))
		return false
	}
	return true
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	mine, err := s.store.listMine()
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err)
		return
	}
	if mine == nil {
		mine = []listEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"shipped": s.store.listShipped(), "mine": mine})
}

// notebookPath reads a request naming one notebook ({"path": …}) and cleans the path; when it
// returns false it has answered the request already.
func notebookPath(w http.ResponseWriter, r *http.Request) (string, bool) {
	var req pathReq
	if !readJSON(w, r, &req) {
		return "", false
	}
	p, err := clean(req.Path)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return "", false
	}
	return p, true
}

type pathReq struct {
	Name string `json:"name"`
	Path string `json:"path"`
	To   string `json:"to"`
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	var req pathReq
	if !readJSON(w, r, &req) {
		return
	}
	name := req.Name
	if name != "" && !strings.HasSuffix(name, ".ipynb") {
		name += ".ipynb"
	}
	p, err := clean(name)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if err := s.store.create(p); err != nil {
		writeErr(w, http.StatusConflict, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"path": p})
}

// busy refuses to move or delete a notebook that is open.
func (s *Server) isOpen(p string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[p] != nil
}

func (s *Server) rename(w http.ResponseWriter, r *http.Request) {
	var req pathReq
	if !readJSON(w, r, &req) {
		return
	}
	to := req.To
	if to != "" && !strings.HasSuffix(to, ".ipynb") {
		to += ".ipynb"
	}
	from, err1 := clean(req.Path)
	to, err2 := clean(to)
	if err := errors.Join(err1, err2); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if s.isOpen(from) {
		writeErr(w, http.StatusConflict, fmt.Errorf("%s is open; close it first", from))
		return
	}
	if err := s.store.rename(from, to); err != nil {
		writeErr(w, http.StatusConflict, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"path": to})
}

func (s *Server) duplicate(w http.ResponseWriter, r *http.Request) {
	p, ok := notebookPath(w, r)
	if !ok {
		return
	}
	to, err := s.store.duplicate(p)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"path": to})
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request) {
	p, ok := notebookPath(w, r)
	if !ok {
		return
	}
	if s.isOpen(p) {
		writeErr(w, http.StatusConflict, fmt.Errorf("%s is open; close it first", p))
		return
	}
	if err := s.store.remove(p); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"path": p})
}

func (s *Server) openShipped(w http.ResponseWriter, r *http.Request) {
	p, ok := notebookPath(w, r)
	if !ok {
		return
	}
	mine, err := s.store.openShipped(p)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"path": mine})
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("upload: %v", err))
		return
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("upload: %v", err))
		return
	}
	p, err := s.store.upload(hdr.Filename, data)
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"path": p})
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	p, err := clean(chi.URLParam(r, "*"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	// An open notebook is saved first, so the download has its latest outputs.
	s.mu.Lock()
	ss := s.sessions[p]
	s.mu.Unlock()
	if ss != nil {
		done := make(chan struct{})
		if ss.do(func() { ss.save(); close(done) }) {
			<-done
		}
	}
	b, err := os.ReadFile(s.store.file(p))
	if err != nil {
		writeErr(w, http.StatusNotFound, err)
		return
	}
	name := p[strings.LastIndexByte(p, '/')+1:]
	w.Header().Set("Content-Type", "application/x-ipynb+json")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	w.Write(b)
}

func (s *Server) format(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Source string `json:"source"`
	}
	if !readJSON(w, r, &req) {
		return
	}
	out, err := formatCell(req.Source)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"source": out})
}

// --- the websocket ---

var upgrader = websocket.Upgrader{
	ReadBufferSize:  16 << 10,
	WriteBufferSize: 16 << 10,
	CheckOrigin:     originOK,
}

var errBinary = errors.New("binary messages are not part of the protocol")

func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	p, err := clean(chi.URLParam(r, "*"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !s.store.exists(p) {
		http.Error(w, "no such notebook", http.StatusNotFound)
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ss, err := s.open(p)
	if err != nil {
		conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInternalServerErr, truncate(err.Error(), 120)))
		conn.Close()
		return
	}
	c := newClient(conn)
	go c.writer()
	if !ss.do(func() { ss.attach(c) }) {
		c.close()
		return
	}
	c.reader(func(env Envelope, err error) {
		if err != nil {
			c.send(MsgError, "", ErrorMsg{Message: "bad message: " + err.Error()})
			return
		}
		ss.do(func() {
			if err := ss.handle(c, env); err != nil {
				c.send(MsgError, env.Req, ErrorMsg{Message: err.Error()})
			}
		})
	})
	ss.do(func() { ss.detach(c) })
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
