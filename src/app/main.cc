#include "app/cli.h"

int main(int argc, char** argv) { return creditwatch::app::RunCli(argc, argv); }
