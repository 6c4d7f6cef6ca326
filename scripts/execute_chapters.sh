#!/usr/bin/env bash
# Re-execute every chapter in place (fresh kernel each, top to bottom), e.g. after a library change.
source "$(dirname "$0")/_env.sh"
python scripts/execute_chapters.py "$@"
