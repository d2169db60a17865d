package shell

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"
)

// reapTimeout bounds the wait for a process group to die after SIGKILL. A
// process in uninterruptible sleep (a hung NFS mount, say) can outlive it;
// Run then logs the group and returns rather than hang the worker.
const reapTimeout = 10 * time.Second

// stopGroup ends every process of group pgid, whose leader's Wait closes
// leaderDone: SIGTERM, then SIGKILL if any process is still alive after
// grace (with SIGCONT after SIGTERM, so that a stopped process gets it). It returns once the leader is reaped and no live process is left
// in the group, or after reapTimeout past SIGKILL; it reports whether the
// group died.
func stopGroup(pgid int, leaderDone <-chan struct{}, grace time.Duration) bool {
	signalGroup(pgid, syscall.SIGTERM)
	signalGroup(pgid, syscall.SIGCONT)
	graceTimer := time.NewTimer(grace)
	defer graceTimer.Stop()
	if waitGroup(pgid, leaderDone, graceTimer.C) {
		return true
	}
	signalGroup(pgid, syscall.SIGKILL)
	reapTimer := time.NewTimer(reapTimeout)
	defer reapTimer.Stop()
	return waitGroup(pgid, leaderDone, reapTimer.C)
}

// signalGroup sends sig to every process of group pgid. An empty group
// (ESRCH) is not an error: there is nothing left to stop.
func signalGroup(pgid int, sig syscall.Signal) {
	_ = syscall.Kill(-pgid, sig)
}

// waitGroup waits until the group's leader is reaped and no live process
// is left in the group, or until timeout fires; it reports whether the
// group died. Only the leader's end has a channel: the other members are
// polled, at most every 50 ms.
func waitGroup(pgid int, leaderDone <-chan struct{}, timeout <-chan time.Time) bool {
	select {
	case <-leaderDone:
	case <-timeout:
		return false
	}
	poll := time.Millisecond
	for groupAlive(pgid) {
		t := time.NewTimer(poll)
		select {
		case <-t.C:
		case <-timeout:
			t.Stop()
			return false
		}
		poll = min(2*poll, 50*time.Millisecond)
	}
	return true
}

// groupAlive reports whether group pgid has a process that is not a
// zombie. Zombies matter because the worker may run where nothing reaps
// orphans (as PID 1 of a container, or under an init that does not reap):
// the group of a task that left orphans then never empties, but a zombie
// holds no resources and cannot be stopped anyway. On systems without
// /proc, a zombie counts as alive.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return false
	}
	alive, ok := liveMembers(pgid)
	if !ok {
		return true
	}
	return alive > 0
}

// liveMembers counts the processes of group pgid that are not zombies,
// reading /proc; ok is false when /proc cannot be read.
func liveMembers(pgid int) (n int, ok bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // exited meanwhile
		}
		state, pgrp, ok := parseStat(stat)
		if ok && pgrp == pgid && state != 'Z' && state != 'X' {
			n++
		}
	}
	return n, true
}

// parseStat reads the state and process group of /proc/<pid>/stat:
// "pid (comm) state ppid pgrp …", where comm may hold spaces and parentheses.
func parseStat(stat []byte) (state byte, pgrp int, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := bytes.Fields(stat[i+1:])
	if len(fields) < 3 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	pgrp, err := strconv.Atoi(string(fields[2]))
	if err != nil {
		return 0, 0, false
	}
	return fields[0][0], pgrp, true
}
