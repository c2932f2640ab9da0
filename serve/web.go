package serve

import (
	"embed"
	"encoding/json"
	"net/http"

	"github.com/textclf/textclf"
)

// web holds the page served at GET /, the renderer of the API's
// description at /docs and that description (OpenAPI 3.1) at
// /openapi.json. Everything they need is in them: no external resources.
//
//go:embed web/index.html web/docs.html web/openapi.json
var web embed.FS

func (s *Server) page(w http.ResponseWriter, r *http.Request) { s.serveFile(w, "web/index.html") }

func (s *Server) docs(w http.ResponseWriter, r *http.Request) { s.serveFile(w, "web/docs.html") }

func (s *Server) serveFile(w http.ResponseWriter, name string) {
	b, err := web.ReadFile(name)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The pages load nothing from elsewhere; say so to the browser.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(b)
}

// OpenAPI returns the description of the server's routes (OpenAPI 3.1),
// with textclf's version and the model's id.
func (s *Server) OpenAPI() (map[string]any, error) {
	b, err := web.ReadFile("web/openapi.json")
	if err != nil {
		return nil, err
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil, err
	}
	info := spec["info"].(map[string]any)
	info["version"] = textclf.Version
	if s.cfg.ModelID != "" {
		info["title"] = "textclf serve: " + s.cfg.ModelID
	}
	return spec, nil
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	spec, err := s.OpenAPI()
	if err != nil {
		s.fail(w, r, &apiError{http.StatusInternalServerError, typeBackend, err.Error(), typeBackend})
		return
	}
	writeJSON(w, http.StatusOK, spec)
}
