using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Collections.Generic;
using SlmGen.Data;
using SlmGen.Data.Tokenizers;
using SlmGen.Training;
using TorchSharp;
using SlmGen.IO;

namespace SlmGen.Cli;

/// <summary>Shared pieces of the commands: running with plain error messages, data sets, models with weights.</summary>
public static class Cli
{
    /// <summary>Shows the stack trace of a failure (also SLMGEN_VERBOSE=1).</summary>
    public static readonly Option<bool> Verbose = new("--verbose") { Description = "on a failure, also print the stack trace", Recursive = true };

    /// <summary>
    /// Parses and runs. Every failure is one "error: …" line on stderr (the file and the problem; a spec's errors
    /// one line each) and a non-zero exit — 2 for a mistake in the input (options, specs, files), 1 for anything
    /// else — never a stack trace unless <c>--verbose</c> (or SLMGEN_VERBOSE=1) asks for it.
    /// </summary>
    public static int Run(RootCommand root, string[] args)
    {
        root.Options.Add(Verbose);
        var verbose = args.Contains("--verbose") || Environment.GetEnvironmentVariable("SLMGEN_VERBOSE") == "1";
        try
        {
            // Exceptions reach the handler below (one line, not a stack trace); stop signals are the train and sweep
            // commands' own (they finish the step and write the checkpoint).
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (Exception thrown)
        {
            var e = Unwrap(thrown);
            Console.Out.Flush();
            var mistake = e is CliException or ArgumentException or InvalidOperationException or IOException or NotSupportedException or System.Text.Json.JsonException
                or FormatException or OverflowException or UnauthorizedAccessException or YamlDotNet.Core.YamlException or InvalidCastException or KeyNotFoundException or InvalidDataException;
            var message = e switch
            {
                OutOfMemoryException or InsufficientExecutionStackException => "the input needs more memory than this machine has (" + e.Message + ")",
                System.Text.Json.JsonException j => $"not valid JSON{(j.Path is { Length: > 0 } at ? $" at {at}" : string.Empty)}{(j.LineNumber is { } l ? $" (line {l + 1})" : string.Empty)}: {j.Message}",
                _ when mistake => e.Message,
                _ => $"{e.GetType().Name}: {e.Message}",
            };
            Console.Error.WriteLine("error: " + message.TrimEnd());
            if (verbose)
            {
                Console.Error.WriteLine(thrown.ToString());
            }

            return mistake || e is OutOfMemoryException ? 2 : 1;
        }
    }

    private static Exception Unwrap(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Unwrap(a.InnerExceptions[0]),
        System.Reflection.TargetInvocationException { InnerException: { } inner } => Unwrap(inner),
        TypeInitializationException { InnerException: { } inner } => Unwrap(inner),
        _ => e,
    };

    /// <summary>A regular file's text (refused: a missing file, a directory, a device or FIFO, or one over <paramref name="limit"/> bytes).</summary>
    public static string ReadText(string path, string what, long limit)
    {
        try
        {
            return InputFile.ReadAllText(path, what, limit);
        }
        catch (FileNotFoundException)
        {
            throw new CliException($"{path}: no such {what} file.");
        }
    }

    /// <summary>Refuses, before anything is compiled, a spec that is not a readable regular file.</summary>
    public static void EnsureReadable(string path, string what)
    {
        try
        {
            InputFile.EnsureRegular(path, what);
        }
        catch (FileNotFoundException)
        {
            throw new CliException($"{path}: no such {what} file.");
        }
    }

    /// <summary>The corpus names that read the repository's data/ folder.</summary>
    public static IReadOnlyList<string> CorpusNames => Corpora.Names;

    /// <summary>Refuses, before anything is compiled, a data argument that is neither a corpus name nor a regular file.</summary>
    public static void EnsureDataExists(string data)
    {
        if (CorpusNames.Contains(data))
        {
            return;
        }

        if (!File.Exists(data) && !Directory.Exists(data))
        {
            throw new CliException($"{data}: no such data file, and not one of {Corpora.NameList} (those read the repository's data/ folder, or SLMGEN_DATA).");
        }

        InputFile.EnsureRegular(data, "data");
    }

    /// <summary>A stated file for an option (a checkpoint, weights, a tokenizer folder) must exist before anything is compiled.</summary>
    public static void EnsureFile(string? path, string what)
    {
        if (path is not null)
        {
            EnsureReadable(path, what);
        }
    }

    /// <summary>Adds a validator that reports a clear error when <paramref name="ok"/> is false.</summary>
    public static Option<T> Check<T>(this Option<T> option, Func<T, bool> ok, string rule)
    {
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<T>();
            if (!ok(value))
            {
                result.AddError($"{result.IdentifierToken?.Value ?? option.Name} {rule} (got {value}).");
            }
        });
        return option;
    }

    /// <summary>
    /// A data set by corpus name or text file, encoded by <paramref name="tokenizer"/> (chars, bytes, words, gpt2, cl100k,
    /// bpe:DIR; tokenized splits are cached), or with the corpus's own tokenizer when none is given.
    /// </summary>
    public static TokenDataset Data(string name, string? tokenizer)
    {
        if (tokenizer is null)
        {
            return Data(name);
        }

        var spec = TokenizerSpec.Parse(tokenizer);
        return File.Exists(name) ? TokenCache.Load(Path.GetFileName(name), spec, Corpora.TextFile(name)) : Corpora.Load(name, spec);
    }

    /// <summary>
    /// The tokenizer to use: the one given on the command line, else the one the spec declares (a BPE folder is
    /// relative to the spec file), else null (the corpus's own).
    /// </summary>
    public static string? Tokenizer(string? given, SlmModel model, string specPath) =>
        given ?? model.Tokenizer switch
        {
            null => null,
            var name when TokenizerSpec.IsName(name) => model.Tokenizer,
            var folder when folder.StartsWith("bpe:", StringComparison.Ordinal) => "bpe:" + Path.Combine(Path.GetDirectoryName(Path.GetFullPath(specPath))!, folder[4..]),
            var folder => "bpe:" + Path.Combine(Path.GetDirectoryName(Path.GetFullPath(specPath))!, folder),
        };

    /// <summary>
    /// The commit a run record names: SLMGEN_COMMIT when set (a copy of the working tree without .git, as on the GPU
    /// machine), else <c>git rev-parse HEAD</c> in the working folder, else "unknown".
    /// </summary>
    public static string Commit()
    {
        if (Environment.GetEnvironmentVariable("SLMGEN_COMMIT") is { Length: > 0 } given)
        {
            return given;
        }

        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo("git", "rev-parse HEAD") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var git = System.Diagnostics.Process.Start(psi)!;
            var head = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && head.Length == 40 ? head : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }

    /// <summary>A data set by name (the repository's corpora) or a UTF-8 text file (characters, 90/10 split).</summary>
    public static TokenDataset Data(string name) => Corpora.Named(name);

    /// <summary>The model of a spec, with weights from a checkpoint (.ckpt) or a safetensors state_dict, on a device.</summary>
    public static SlmModel Model(string spec, string? weights, TorchSharp.torch.Device device, bool best = false)
    {
        EnsureReadable(spec, "spec");
        EnsureFile(weights, "checkpoint");
        var descriptor = SpecCompiler.Compile(new[] { spec }).Single(spec);
        var model = descriptor.Create();
        if (weights is not null)
        {
            if (weights.EndsWith(".ckpt", StringComparison.OrdinalIgnoreCase))
            {
                Checkpoint.LoadWeights(model, weights, best ? CheckpointWeights.Best : CheckpointWeights.Latest);
            }
            else
            {
                SlmGen.Interop.PyTorchTwin.ImportWeights(model, weights);
            }
        }

        return model.to(device);
    }
}
