package persisted

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
	"github.com/vektah/gqlparser/v2/parser"
)

// Documents are the registered documents of an allow-list, each found by
// its Hash and by the id its file gives it. Build them with Load or Parse;
// they do not change afterwards, so they are safe for concurrent use.
type Documents struct {
	byID map[string]string
	all  []Document
}

// Document is one registered document.
type Document struct {
	// ID is the id the file gives it: a manifest's key (or an Apollo
	// manifest's id), the Hash of the document for a .graphql file.
	ID string
	// Name names it in messages: the operation names it defines.
	Name string
	// Text is the document, as clients send it.
	Text string
}

// apolloFormat is the "format" of an Apollo persisted query manifest.
const apolloFormat = "apollo-persisted-query-manifest"

// MaxIDLength bounds an id (see ValidID).
const MaxIDLength = 128

// Load reads registered documents from a file, whose name says its format
// (see Parse).
func Load(path string) (*Documents, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads registered documents in the format name's extension says:
//   - .json: a manifest. Either GraphQL Code Generator's client preset's
//     persisted-documents.json, an object of id → document, or an Apollo
//     persisted query manifest ({"format": "apollo-persisted-query-manifest",
//     "version": 1, "operations": [{"id", "name", "type", "body"}]}). An id of
//     64 hex digits (optionally after "sha256:") must be the document's
//     SHA-256, one of 40 hex digits its SHA-1 (the client preset's default
//     hashAlgorithm); any other id is taken as it is (see ValidID).
//   - .graphql or .gql: GraphQL documents. Each operation is registered on
//     its own, as its text followed by the text of each fragment it uses
//     (directly or through other fragments), in the order of the file,
//     separated by a blank line; a definition's text runs from its first
//     token to its closing brace, as written in the file. Its id is its
//     Hash.
//
// Every document is also registered under its Hash. The documents are not
// checked against a schema here (gqlutil.CheckDocuments does that).
func Parse(name string, data []byte) (*Documents, error) {
	var docs []Document
	var err error
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".json":
		docs, err = parseManifest(data)
	case ".graphql", ".gql":
		docs, err = parseGraphQL(name, string(data))
	default:
		return nil, fmt.Errorf("%s: unknown format %q (use a .json manifest or a .graphql file)", name, ext)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no documents", name)
	}
	d := &Documents{byID: make(map[string]string, 2*len(docs))}
	for _, doc := range docs {
		if prev, dup := d.byID[doc.ID]; dup && prev != doc.Text {
			return nil, fmt.Errorf("%s: the id %s is given to two different documents", name, doc.ID)
		}
		for _, id := range []string{doc.ID, Hash(doc.Text)} {
			d.byID[id] = doc.Text
		}
		d.all = append(d.all, doc)
	}
	return d, nil
}

// Lookup returns the document registered under id: a file's id, a Hash,
// or a Hash after "sha256:".
func (d *Documents) Lookup(id string) (string, bool) {
	if d == nil {
		return "", false
	}
	if doc, ok := d.byID[id]; ok {
		return doc, true
	}
	if h, ok := strings.CutPrefix(id, "sha256:"); ok && IsHash(h) {
		doc, ok := d.byID[h]
		return doc, ok
	}
	return "", false
}

// All returns the documents in the order of the file.
func (d *Documents) All() []Document {
	if d == nil {
		return nil
	}
	return slices.Clone(d.all)
}

// Len returns the number of documents.
func (d *Documents) Len() int {
	if d == nil {
		return 0
	}
	return len(d.all)
}

// parseManifest reads a JSON manifest (see Parse).
func parseManifest(data []byte) ([]Document, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("not a JSON object of id → document: %w", err)
	}
	if format, ok := fields["format"]; ok && bytes.Contains(format, []byte(apolloFormat)) {
		return parseApolloManifest(data)
	}
	var docs []Document
	for id, raw := range fields {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, fmt.Errorf("the value of %q is not a string (a manifest maps each id to its document)", id)
		}
		doc, err := manifestDocument(id, "", text)
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
	// A JSON object has no order: the ids give one, so messages repeat.
	slices.SortFunc(docs, func(a, b Document) int { return strings.Compare(a.ID, b.ID) })
	return docs, nil
}

// parseApolloManifest reads an Apollo persisted query manifest.
func parseApolloManifest(data []byte) ([]Document, error) {
	var m struct {
		Format     string `json:"format"`
		Version    int    `json:"version"`
		Operations []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Body string `json:"body"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("not an Apollo persisted query manifest: %w", err)
	}
	if m.Format != apolloFormat || m.Version != 1 {
		return nil, fmt.Errorf("an Apollo persisted query manifest of format %q version %d (only %s version 1 is read)", m.Format, m.Version, apolloFormat)
	}
	docs := make([]Document, 0, len(m.Operations))
	for _, op := range m.Operations {
		doc, err := manifestDocument(op.ID, op.Name, op.Body)
		if err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

// manifestDocument checks one entry of a manifest: a hash id must be the
// document's hash, any other id a short plain string.
func manifestDocument(id, name, text string) (Document, error) {
	if strings.TrimSpace(text) == "" {
		return Document{}, fmt.Errorf("the document of %q is empty", id)
	}
	hash := strings.TrimPrefix(id, "sha256:")
	switch {
	case IsHash(hash):
		if hash != Hash(text) {
			return Document{}, fmt.Errorf("the id %s is not the SHA-256 of its document (%s is): was the document changed after the manifest was written?", id, Hash(text))
		}
	case isHex(id, sha1.Size*2):
		sum := sha1.Sum([]byte(text))
		if got := hex.EncodeToString(sum[:]); got != id {
			return Document{}, fmt.Errorf("the id %s is not the SHA-1 of its document (%s is): was the document changed after the manifest was written?", id, got)
		}
	case !ValidID(id):
		return Document{}, fmt.Errorf("the id %q is neither a SHA-256 (64 hex digits) nor a SHA-1 (40) of its document, nor a plain id (at most %d letters, digits and -_.:)", id, MaxIDLength)
	}
	return Document{ID: id, Name: name, Text: text}, nil
}

// ValidID reports whether id can be a document's id: 1 to MaxIDLength
// letters, digits and -_.: (hashes, with or without "sha256:", are).
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLength {
		return false
	}
	for i := range len(id) {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.:", c) >= 0) {
			return false
		}
	}
	return true
}

// parseGraphQL splits a .graphql file into one document per operation
// (see Parse).
func parseGraphQL(name, src string) ([]Document, error) {
	doc, err := parser.ParseQuery(&ast.Source{Name: name, Input: src})
	if err != nil {
		return nil, err
	}
	texts, err := definitionTexts(src)
	if err != nil {
		return nil, err
	}
	text := func(pos *ast.Position) (string, error) {
		if t, ok := texts[pos.Start]; ok {
			return t, nil
		}
		return "", fmt.Errorf("line %d: could not find where the definition ends", pos.Line)
	}
	frags := map[string]*ast.FragmentDefinition{}
	for _, f := range doc.Fragments {
		if _, dup := frags[f.Name]; dup {
			return nil, fmt.Errorf("line %d: a second fragment named %s", f.Position.Line, f.Name)
		}
		frags[f.Name] = f
	}
	var docs []Document
	for i, op := range doc.Operations {
		used := map[string]bool{}
		var unknown []string
		var walk func(ast.SelectionSet)
		walk = func(set ast.SelectionSet) {
			for _, sel := range set {
				switch sel := sel.(type) {
				case *ast.Field:
					walk(sel.SelectionSet)
				case *ast.InlineFragment:
					walk(sel.SelectionSet)
				case *ast.FragmentSpread:
					if used[sel.Name] {
						continue
					}
					used[sel.Name] = true
					if f := frags[sel.Name]; f != nil {
						walk(f.SelectionSet)
					} else {
						unknown = append(unknown, sel.Name)
					}
				}
			}
		}
		walk(op.SelectionSet)
		opName := op.Name
		if opName == "" {
			opName = fmt.Sprintf("the anonymous operation #%d", i+1)
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("%s uses the fragment %s, which the file does not define", opName, unknown[0])
		}
		parts := make([]string, 0, 1+len(used))
		t, err := text(op.Position)
		if err != nil {
			return nil, err
		}
		parts = append(parts, t)
		for _, f := range doc.Fragments { // the file's order
			if used[f.Name] {
				t, err := text(f.Position)
				if err != nil {
					return nil, err
				}
				parts = append(parts, t)
			}
		}
		full := strings.Join(parts, "\n\n")
		docs = append(docs, Document{ID: Hash(full), Name: opName, Text: full})
	}
	return docs, nil
}

// definitionTexts returns the text of each top-level definition of src by
// the position (in runes, as gqlparser counts) of its first token: from
// that token to the brace that closes its selection set. Braces inside
// parentheses (object values in arguments and defaults) do not close it.
func definitionTexts(src string) (map[int]string, error) {
	runes := []rune(src)
	lex := lexer.New(&ast.Source{Input: src})
	texts := map[int]string{}
	braces, parens, start := 0, 0, -1
	for {
		tok, err := lex.ReadToken()
		if err != nil {
			return nil, err
		}
		switch tok.Kind {
		case lexer.EOF:
			if start >= 0 {
				return nil, errors.New("the last definition does not end")
			}
			return texts, nil
		case lexer.Comment:
			continue
		case lexer.ParenL:
			parens++
		case lexer.ParenR:
			parens--
		case lexer.BraceL:
			if parens == 0 {
				braces++
			}
		case lexer.BraceR:
			if parens == 0 {
				braces--
			}
		}
		if start < 0 {
			start = tok.Pos.Start
		}
		if tok.Kind == lexer.BraceR && braces == 0 && parens == 0 {
			texts[start] = string(runes[start:tok.Pos.End])
			start = -1
		}
	}
}
