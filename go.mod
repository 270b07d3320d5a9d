module github.com/loopbook/loopbook

go 1.26.0

require (
	github.com/traefik/yaegi v0.16.1
	golang.org/x/sys v0.50.0
)

require (
	github.com/go-chi/chi/v5 v5.5.0 // indirect
	github.com/gorilla/websocket v1.5.3 // indirect
)
