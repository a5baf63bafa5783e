"""Benchmarks: scripts that print figures and ratios, run as ``python -m benchmarks.<name>``.

Speed and memory claims live here, never in timed unit tests: the machines are shared and
noisy, so every script repeats, reports medians, and compares contenders within one run.
"""
