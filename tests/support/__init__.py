"""Helpers the tests import (reference implementations, case tables) and the
scripts they run in subprocesses; no tests here."""
