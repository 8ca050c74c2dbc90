#!/usr/bin/env node
/**
 * `vdb`: the command line for the VDB control plane. Built to dist/cli.js, the package's bin.
 * @module
 */
import { runCli } from "./run-cli";

process.exitCode = await runCli(process.argv.slice(2), process.env, process);
