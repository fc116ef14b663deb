package push

import "testing"

func TestNumberMatchIsTwoDigits(t *testing.T) {
	for range 200 {
		if n := NumberMatch(); n < 10 || n > 99 {
			t.Fatal(n)
		}
	}
}
