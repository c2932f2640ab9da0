package tokenizer

// byteToRune maps each byte to the printable rune GPT-2's byte-level BPE uses
// for it (bytes_to_unicode in GPT-2's encoder.py): printable Latin-1 bytes map
// to themselves, the others to runes from U+0100 on, in byte order.
var byteToRune [256]rune

// runeToByte is the inverse of byteToRune.
var runeToByte = make(map[rune]byte, 256)

func init() {
	next := rune(256)
	for b := 0; b < 256; b++ {
		printable := (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
		if printable {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = next
			next++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}
