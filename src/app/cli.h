// The creditwatch command line: parses subcommands and dispatches to the modules.
#pragma once

namespace creditwatch::app {

// Runs the command line; returns the process exit code.
int RunCli(int argc, char** argv);

}  // namespace creditwatch::app
