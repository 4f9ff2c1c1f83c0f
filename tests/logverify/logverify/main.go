// Command logverify checks the transparency log's signed checkpoints and
// proofs (PROTOCOL.md section 5) with Go's sumdb note and tlog packages,
// apart from the C code that makes them.
//
//	logverify checkpoint VERIFIERKEY CHECKPOINT
//	logverify inclusion VERIFIERKEY CHECKPOINT PROOF.json LEAF
//	logverify consistency VERIFIERKEY OLDCHECKPOINT NEWCHECKPOINT PROOF.json
//
// VERIFIERKEY is the note verifier key text <origin>+<hash>+<key>, or @FILE
// to read it from FILE.  CHECKPOINT and PROOF.json are files, or - for
// standard input, holding what /api/v1/log/checkpoint,
// /api/v1/log/inclusion?index=&size= and /api/v1/log/consistency?from=&to=
// serve.  LEAF is the commitment C in b64u; its leaf hash is SHA-256(0x00 || C).
//
// On success it prints what it checked and exits 0; otherwise it prints why
// to standard error and exits 1 (2 for a usage error).
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A checkpoint as C2SP tlog-checkpoint defines it.
type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

type inclusionProof struct {
	Index  *int64   `json:"index"`
	Size   *int64   `json:"size"`
	Leaf   *string  `json:"leaf"`
	Hashes []string `json:"hashes"`
}

type consistencyProof struct {
	From   *int64   `json:"from"`
	To     *int64   `json:"to"`
	Hashes []string `json:"hashes"`
}

func readArg(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

func verifier(arg string) (note.Verifier, error) {
	text := arg
	if strings.HasPrefix(arg, "@") {
		b, err := os.ReadFile(arg[1:])
		if err != nil {
			return nil, err
		}
		// A key file may end in a newline; the key text itself has none.
		text = strings.TrimSuffix(string(b), "\n")
	}
	v, err := note.NewVerifier(text)
	if err != nil {
		return nil, fmt.Errorf("verifier key: %v", err)
	}
	return v, nil
}

// openCheckpoint verifies the note's signature by v, then reads its body:
// origin (which must be v's name), size in canonical decimal, root in
// standard base64; extension lines after these are allowed and ignored.
func openCheckpoint(v note.Verifier, file string) (*checkpoint, error) {
	msg, err := readArg(file)
	if err != nil {
		return nil, err
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("%s: checkpoint has %d lines, not 3 or more", file, len(lines))
	}
	if lines[0] != v.Name() {
		return nil, fmt.Errorf("%s: origin %q is not the key's name %q", file, lines[0], v.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return nil, fmt.Errorf("%s: bad tree size %q", file, lines[1])
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return nil, fmt.Errorf("%s: bad root hash %q", file, lines[2])
	}
	c := &checkpoint{origin: lines[0], size: size}
	copy(c.root[:], root)
	return c, nil
}

// openAll opens each checkpoint file with the verifier key text vkey.
func openAll(vkey string, files ...string) ([]*checkpoint, error) {
	v, err := verifier(vkey)
	if err != nil {
		return nil, err
	}
	out := make([]*checkpoint, len(files))
	for i, f := range files {
		if out[i], err = openCheckpoint(v, f); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func b64u(what, s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: not b64u: %v", what, err)
	}
	return b, nil
}

func hashes(list []string) ([]tlog.Hash, error) {
	if list == nil {
		return nil, errors.New(`proof has no "hashes" array`)
	}
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		b, err := b64u(fmt.Sprintf("hashes[%d]", i), s)
		if err != nil {
			return nil, err
		}
		if len(b) != tlog.HashSize {
			return nil, fmt.Errorf("hashes[%d]: %d bytes, not %d", i, len(b), tlog.HashSize)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

// decodeJSON reads exactly one JSON object from file into dst.
func decodeJSON(file string, dst interface{}) error {
	b, err := readArg(file)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%s: data after the JSON object", file)
	}
	return nil
}

func cmdCheckpoint(args []string) error {
	if len(args) != 2 {
		return errUsage
	}
	cps, err := openAll(args[0], args[1])
	if err != nil {
		return err
	}
	c := cps[0]
	fmt.Printf("origin %s\nsize %d\nroot %s\n", c.origin, c.size,
		base64.StdEncoding.EncodeToString(c.root[:]))
	return nil
}

func cmdInclusion(args []string) error {
	if len(args) != 4 {
		return errUsage
	}
	cps, err := openAll(args[0], args[1])
	if err != nil {
		return err
	}
	c := cps[0]
	var p inclusionProof
	if err := decodeJSON(args[2], &p); err != nil {
		return err
	}
	if p.Index == nil || p.Size == nil || p.Leaf == nil {
		return fmt.Errorf(`%s: "index", "size" and "leaf" are all required`, args[2])
	}
	if *p.Size != c.size {
		return fmt.Errorf("proof is for size %d, the checkpoint's is %d", *p.Size, c.size)
	}
	if *p.Index < 0 || *p.Index >= c.size {
		return fmt.Errorf("index %d is not in a tree of size %d", *p.Index, c.size)
	}
	leaf, err := b64u("LEAF", args[3])
	if err != nil {
		return err
	}
	served, err := b64u("leaf", *p.Leaf)
	if err != nil {
		return err
	}
	if len(leaf) != tlog.HashSize {
		return fmt.Errorf("LEAF: %d bytes, not a %d-byte commitment", len(leaf), tlog.HashSize)
	}
	if !bytes.Equal(leaf, served) {
		return errors.New("the proof is for another leaf than LEAF")
	}
	proof, err := hashes(p.Hashes)
	if err != nil {
		return err
	}
	if err := tlog.CheckRecord(proof, c.size, c.root, *p.Index, tlog.RecordHash(leaf)); err != nil {
		return fmt.Errorf("inclusion of leaf %d in size %d: %v", *p.Index, c.size, err)
	}
	fmt.Printf("leaf %d is in the tree of size %d\n", *p.Index, c.size)
	return nil
}

func cmdConsistency(args []string) error {
	if len(args) != 4 {
		return errUsage
	}
	cps, err := openAll(args[0], args[1], args[2])
	if err != nil {
		return err
	}
	old, cur := cps[0], cps[1]
	var p consistencyProof
	if err := decodeJSON(args[3], &p); err != nil {
		return err
	}
	if p.From == nil || p.To == nil {
		return fmt.Errorf(`%s: "from" and "to" are both required`, args[3])
	}
	if *p.From != old.size || *p.To != cur.size {
		return fmt.Errorf("proof is for %d -> %d, the checkpoints are %d -> %d",
			*p.From, *p.To, old.size, cur.size)
	}
	if old.size < 1 || old.size > cur.size {
		return fmt.Errorf("no consistency proof from size %d to %d", old.size, cur.size)
	}
	proof, err := hashes(p.Hashes)
	if err != nil {
		return err
	}
	if err := tlog.CheckTree(proof, cur.size, cur.root, old.size, old.root); err != nil {
		return fmt.Errorf("consistency of %d -> %d: %v", old.size, cur.size, err)
	}
	fmt.Printf("the tree of size %d extends the tree of size %d\n", cur.size, old.size)
	return nil
}

var errUsage = errors.New("usage")

const usage = `usage: logverify checkpoint VERIFIERKEY CHECKPOINT
       logverify inclusion VERIFIERKEY CHECKPOINT PROOF.json LEAF
       logverify consistency VERIFIERKEY OLDCHECKPOINT NEWCHECKPOINT PROOF.json
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "checkpoint":
		err = cmdCheckpoint(os.Args[2:])
	case "inclusion":
		err = cmdInclusion(os.Args[2:])
	case "consistency":
		err = cmdConsistency(os.Args[2:])
	default:
		err = errUsage
	}
	if err == errUsage {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "logverify: %v\n", err)
		os.Exit(1)
	}
}
