#!/usr/bin/env node
import { main } from '../dist/coordinator/cli.js';

process.exitCode = await main(process.argv);
