#!/usr/bin/env node
import { main } from '../dist/coordinator/cli/main.js';

process.exitCode = await main(process.argv);
