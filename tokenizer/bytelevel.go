package tokenizer

// byteToRune maps each byte to the printable rune GPT-2's byte-level BPE uses
// for it (bytes_to_unicode in GPT-2's encoder.py): printable Latin-1 bytes map
// to themselves, the others to runes from U+0100 on, in byte order.
var byteToRune = func() (t [256]rune) {
	next := rune(256)
	for b := range t {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if printable {
			t[b] = rune(b)
		} else {
			t[b] = next
			next++
		}
	}
	return t
}()

// runeToByte is the inverse of byteToRune.
var runeToByte = func() map[rune]byte {
	m := make(map[rune]byte, 256)
	for b, r := range byteToRune {
		m[r] = byte(b)
	}
	return m
}()
