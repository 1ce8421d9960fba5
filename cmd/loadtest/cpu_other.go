//go:build !linux

package main

import (
	"syscall"
	"time"
)

// selfCPU is not measured off Linux.
func selfCPU() (time.Duration, bool) { return 0, false }

// processCPU is not measured off Linux.
func processCPU(int) (time.Duration, bool) { return 0, false }

func childAttr() *syscall.SysProcAttr { return nil }
