#!/usr/bin/env node
// The `secure-pipe` command; the CLI itself is compiled from src/cli/ into build/ by `npm ci` (prepare).
import { run } from '../build/src/cli/main.js'

run()
