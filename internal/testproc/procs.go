package testproc

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Alive reports whether pid is a live process: not a zombie, which is
// what an orphan may stay where nothing reaps it.
func Alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || (stat[i+2] != 'Z' && stat[i+2] != 'X')
}

// Matching returns the live processes of the host whose command line
// (its arguments joined by spaces) contains marker.
func Matching(marker string) []int {
	var found []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(strings.ReplaceAll(string(cmdline), "\x00", " "), marker) && Alive(pid) {
			found = append(found, pid)
		}
	}
	return found
}

// WithEnv returns the live processes of the host whose environment holds
// the variable setting kv ("NAME=value") exactly: a process and the
// children it started, whatever they run.
func WithEnv(kv string) []int {
	var found []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		environ, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err == nil && slices.Contains(strings.Split(string(environ), "\x00"), kv) && Alive(pid) {
			found = append(found, pid)
		}
	}
	return found
}
