package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
	"time"
)

// defaultTemplates are the mails sent unless MAIL_TEMPLATES_DIR replaces
// them: for each Type, <type>.txt (the subject, in a "subject" block, and
// the plain-text body) and <type>.html (the HTML alternative).
//
//go:embed templates/*.txt templates/*.html
var defaultTemplates embed.FS

// TemplateData is what a mail template sees: the message's fields that
// are sent (docs/notifications.md lists them).
type TemplateData struct {
	ID            string
	Type          Type
	EmailAddress  string
	Token         string
	Link          string
	OccurredAt    time.Time
	ClientAddress string
	UserAgent     string
}

func templateData(m Message) TemplateData {
	return TemplateData{
		ID: m.ID, Type: m.Type, EmailAddress: m.EmailAddress, Token: m.Token, Link: m.Link,
		OccurredAt: m.OccurredAt, ClientAddress: m.ClientAddress, UserAgent: m.UserAgent,
	}
}

// Mail is a rendered message.
type Mail struct {
	Subject string
	Text    string
	// HTML is "" when the type has no HTML template.
	HTML string
}

// Templates are the mail templates of every Type, parsed and checked.
type Templates struct {
	byType map[Type]mailTemplate
}

type mailTemplate struct {
	text *texttemplate.Template // defines "subject"
	html *htmltemplate.Template // nil: text only
}

// LoadTemplates parses the mail templates: the embedded defaults, each
// replaced by the file of the same name in dir when dir is not "" and
// holds one. The plain-text template <type>.txt (text/template) must
// define the subject in a {{define "subject"}} block; <type>.html
// (html/template, which escapes what it inserts) is the optional HTML
// alternative. A dir that replaces <type>.txt but has no <type>.html sends
// that type as plain text only, so the two parts never say different
// things; an empty <type>.html does the same. Every template is executed
// once with sample data, so a mistake (an unknown field, a missing
// subject) stops the server at start, not at the first mail. A file in dir
// whose name is not a template's is an error too.
func LoadTemplates(dir string) (*Templates, error) {
	var errs []error
	overrides := map[string]bool{}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("mail templates: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(name, ".") {
				continue
			}
			ext := filepath.Ext(name)
			if (ext != ".txt" && ext != ".html") || !Type(strings.TrimSuffix(name, ext)).Valid() {
				errs = append(errs, fmt.Errorf("mail templates: %s is not a template name (use <type>.txt or <type>.html, type one of %s)", name, typeList()))
				continue
			}
			overrides[name] = true
		}
	}
	read := func(name string) (string, bool, error) {
		if overrides[name] {
			b, err := os.ReadFile(filepath.Join(dir, name))
			return string(b), true, err
		}
		b, err := fs.ReadFile(defaultTemplates, "templates/"+name)
		return string(b), false, err
	}
	t := &Templates{byType: map[Type]mailTemplate{}}
	for _, typ := range Types {
		mt, err := parseType(typ, read)
		if err != nil {
			errs = append(errs, fmt.Errorf("mail templates: %w", err))
			continue
		}
		t.byType[typ] = mt
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, typ := range Types {
		sample := Message{
			ID: "msg_sample", Type: typ, EmailAddress: "customer@example.com", OccurredAt: time.Unix(0, 0),
			ClientAddress: "192.0.2.1", UserAgent: "Sample/1.0",
		}
		if typ.HasToken() {
			sample.Token, sample.Link = "sample-token", "https://shop.example.com/?token=sample-token"
		}
		if _, err := t.Render(sample); err != nil {
			errs = append(errs, fmt.Errorf("mail templates: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

// parseType parses the templates of one type, read through read (the
// override's source, or the default's).
func parseType(typ Type, read func(name string) (string, bool, error)) (mailTemplate, error) {
	txtName, htmlName := string(typ)+".txt", string(typ)+".html"
	src, txtOverridden, err := read(txtName)
	if err != nil {
		return mailTemplate{}, err
	}
	text, err := texttemplate.New(txtName).Option("missingkey=error").Parse(src)
	if err != nil {
		return mailTemplate{}, err
	}
	if text.Lookup("subject") == nil {
		return mailTemplate{}, fmt.Errorf(`%s defines no subject (add {{define "subject"}}…{{end}})`, txtName)
	}
	src, htmlOverridden, err := read(htmlName)
	if err != nil {
		return mailTemplate{}, err
	}
	if (txtOverridden && !htmlOverridden) || strings.TrimSpace(src) == "" {
		return mailTemplate{text: text}, nil
	}
	html, err := htmltemplate.New(htmlName).Option("missingkey=error").Parse(src)
	if err != nil {
		return mailTemplate{}, err
	}
	return mailTemplate{text: text, html: html}, nil
}

// Render renders the mail of a message.
func (t *Templates) Render(m Message) (Mail, error) {
	mt, ok := t.byType[m.Type]
	if !ok {
		return Mail{}, fmt.Errorf("no template for message type %q", m.Type)
	}
	data := templateData(m)
	var subject, text bytes.Buffer
	if err := mt.text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return Mail{}, err
	}
	if err := mt.text.Execute(&text, data); err != nil {
		return Mail{}, err
	}
	// One line: a line break in a header would start another header.
	out := Mail{Subject: strings.Join(strings.Fields(subject.String()), " "), Text: text.String()}
	if out.Subject == "" {
		return Mail{}, fmt.Errorf("%s.txt: the subject is empty", m.Type)
	}
	if mt.html != nil {
		var html bytes.Buffer
		if err := mt.html.Execute(&html, data); err != nil {
			return Mail{}, err
		}
		out.HTML = html.String()
	}
	return out, nil
}

func typeList() string {
	names := make([]string, len(Types))
	for i, t := range Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}
