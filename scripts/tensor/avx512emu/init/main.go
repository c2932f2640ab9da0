//go:build linux

// Command init is PID 1 of the initramfs that scripts/tensor/avx512_emulated.sh
// boots under Bochs: it mounts /proc, /sys, /dev and /tmp, prints the AVX-512
// flags the CPU reports, runs /harness/test with the arguments in
// /harness/args (one per line) from the package directory /harness/pkg, and
// prints "HARNESS-EXIT=<code>" on the console before it powers the machine
// off. Any failure of its own is printed as "HARNESS-ERROR: …" (and no
// HARNESS-EXIT line), so that the script never reads it as a test result.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"
)

func main() {
	start := time.Now()
	code, err := run()
	if err != nil {
		fmt.Printf("\nHARNESS-ERROR: %v\n", err)
	} else {
		fmt.Printf("\nHARNESS-EXIT=%d (test ran %.1fs guest time)\n", code, time.Since(start).Seconds())
	}
	// Wait until the console has sent everything (tcdrain): powering off
	// drops what the tty layer still holds.
	unix.IoctlSetInt(int(os.Stdout.Fd()), unix.TCSBRK, 1)
	syscall.Sync()
	// Power off (ACPI S5): Bochs quits on it. If that fails, PID 1 returning
	// panics the kernel, which the script's timeout catches.
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}

func run() (int, error) {
	for _, m := range []struct{ src, dir, fs string }{
		{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"}, {"tmpfs", "/tmp", "tmpfs"},
	} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return 0, err
		}
		if err := syscall.Mount(m.src, m.dir, m.fs, 0, ""); err != nil {
			return 0, fmt.Errorf("mount %s on %s: %w", m.fs, m.dir, err)
		}
		if m.fs == "devtmpfs" {
			// The initramfs has no /dev/console node, so the kernel started
			// PID 1 without stdin, stdout and stderr: open them now.
			console, err := os.OpenFile("/dev/console", os.O_RDWR, 0)
			if err != nil {
				return 0, err
			}
			for fd := 0; fd <= 2; fd++ {
				if err := syscall.Dup3(int(console.Fd()), fd, 0); err != nil {
					return 0, fmt.Errorf("dup /dev/console: %w", err)
				}
			}
		}
	}
	up, _ := os.ReadFile("/proc/uptime")
	fmt.Printf("HARNESS-INIT uptime=%s", up)
	flags := []struct {
		name string
		has  bool
	}{
		{"avx512f", cpu.X86.HasAVX512F}, {"avx512vl", cpu.X86.HasAVX512VL},
		{"avx512bw", cpu.X86.HasAVX512BW}, {"avx512dq", cpu.X86.HasAVX512DQ},
		{"avx512vnni", cpu.X86.HasAVX512VNNI}, {"avx512bf16", cpu.X86.HasAVX512BF16},
		{"avx2", cpu.X86.HasAVX2}, {"fma", cpu.X86.HasFMA},
	}
	var line []string
	for _, f := range flags {
		line = append(line, fmt.Sprintf("%s=%v", f.name, f.has))
	}
	fmt.Printf("HARNESS-CPU %s\n", strings.Join(line, " "))
	args, err := readLines("/harness/args")
	if err != nil {
		return 0, err
	}
	env, err := readLines("/harness/env")
	if err != nil {
		return 0, err
	}
	cmd := exec.Command("/harness/test", args...)
	cmd.Dir = "/harness/pkg"
	cmd.Env = append([]string{"HOME=/tmp", "TMPDIR=/tmp", "PATH=/harness"}, env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	fmt.Printf("HARNESS-RUN /harness/test %s\n", strings.Join(args, " "))
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		if exit.ExitCode() < 0 {
			return 0, fmt.Errorf("test binary: %v", err)
		}
		return exit.ExitCode(), nil
	case err != nil:
		return 0, fmt.Errorf("test binary: %w", err)
	}
	return 0, nil
}

// readLines returns the lines of a file written by the script (empty: none).
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return lines, nil
}
