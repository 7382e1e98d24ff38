using System;
using System.CommandLine;
using SlmGen.Cli;
using SlmGen.Cli.Commands;

// Tables keep their columns when the output goes to a file or a pipe.
if (Console.IsOutputRedirected)
{
    Spectre.Console.AnsiConsole.Profile.Width = 160;
}

// slmgen: one command line for SlmGen (costs, train, eval, sample, export, sweep). `slmgen --help`, `slmgen <command> --help`.
var root = new RootCommand("SlmGen: small language models declared as specs, with exact costs before training.")
{
    CostsCommand.Create(),
    TrainCommand.Create(),
    EvalCommand.Create(),
    SampleCommand.Create(),
    ExportCommand.Create(),
    ArtifactCommand.Create(),
    CalibrateCommand.Create(),
    SweepCommand.Create(),
    TimeCommand.Create(),
    TokenizerCommand.Create(),
};
return Cli.Run(root, args);
