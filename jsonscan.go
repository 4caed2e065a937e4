package heliumid

import (
	"bytes"
	"encoding/json"
	"strings"
)

// jsonWalker steps through the members of one JSON object, or the elements
// of one JSON array, in a single pass: it checks the container's own
// punctuation strictly and finds where each value ends, leaving the values'
// contents to a real parser. The fast decoding paths (responses, sessions,
// pages, webhooks) use it to read a body once instead of letting
// encoding/json validate and then decode it, level by level.
type jsonWalker struct {
	b     []byte
	i     int
	close byte // '}' or ']': what ends the container open consumed
	err   bool // the punctuation between members or elements was wrong
}

func (w *jsonWalker) skipSpace() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// open consumes the opening kind, '{' or '['.
func (w *jsonWalker) open(kind byte) bool {
	w.skipSpace()
	if w.i >= len(w.b) || w.b[w.i] != kind {
		return false
	}
	w.i++
	w.close = '}'
	if kind == '[' {
		w.close = ']'
	}
	return true
}

// first reports whether the container holds anything, consuming its end if
// not.
func (w *jsonWalker) first() bool {
	w.skipSpace()
	if w.i < len(w.b) && w.b[w.i] == w.close {
		w.i++
		return false
	}
	return true
}

// next consumes the "," before another member or element and reports true,
// or the container's end and reports false.
func (w *jsonWalker) next() bool {
	w.skipSpace()
	if w.i < len(w.b) {
		switch w.b[w.i] {
		case ',':
			w.i++
			return true
		case w.close:
			w.i++
			return false
		}
	}
	w.err = true
	return false
}

// end reports whether nothing but whitespace follows the container.
func (w *jsonWalker) end() bool {
	w.skipSpace()
	return w.i == len(w.b)
}

// member consumes `"name": value` and returns the unescaped name and the
// value's bytes. The name is only allocated when it holds escapes.
func (w *jsonWalker) member() (name, val []byte, ok bool) {
	w.skipSpace()
	keyEnd, ok := stringEnd(w.b, w.i)
	if !ok {
		return nil, nil, false
	}
	key := w.b[w.i:keyEnd]
	w.i = keyEnd
	w.skipSpace()
	if w.i >= len(w.b) || w.b[w.i] != ':' {
		return nil, nil, false
	}
	w.i++
	if val, ok = w.element(); !ok {
		return nil, nil, false
	}
	if bytes.IndexByte(key, '\\') < 0 && !hasControlByte(key) {
		return key[1 : len(key)-1], val, true
	}
	// An escaped name is rare: let encoding/json check and unescape it.
	var s string
	if json.Unmarshal(key, &s) != nil {
		return nil, nil, false
	}
	return []byte(s), val, true
}

// element consumes one value and returns its bytes.
func (w *jsonWalker) element() ([]byte, bool) {
	w.skipSpace()
	end, ok := valueEnd(w.b, w.i)
	if !ok {
		return nil, false
	}
	val := w.b[w.i:end]
	w.i = end
	return val, true
}

// stringEnd returns the index just after the JSON string starting at b[i].
func stringEnd(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++ // the escaped byte cannot end the string
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// valueEnd returns the index just after the JSON value starting at b[i]. For
// valid JSON it is exact; for invalid JSON it returns some end, and the
// parser the value goes to rejects it.
func valueEnd(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := stringEnd(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	// A number or a literal runs to the next delimiter.
	j := i
	for j < len(b) && strings.IndexByte(",}] \t\r\n", b[j]) < 0 {
		j++
	}
	return j, j > i
}
