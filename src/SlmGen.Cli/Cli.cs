using System;
using System.CommandLine;
using System.IO;
using SlmGen.Data;
using SlmGen.Data.Tokenizers;
using SlmGen.Training;
using TorchSharp;

namespace SlmGen.Cli;

/// <summary>Shared pieces of the commands: running with plain error messages, data sets, models with weights.</summary>
public static class Cli
{
    /// <summary>Parses and runs; a user's mistake is "error: …" on stderr and exit status 2, never a stack trace.</summary>
    public static int Run(RootCommand root, string[] args)
    {
        try
        {
            // Exceptions reach the handler below (one line, not a stack trace); Ctrl+C is the train command's own
            // (it finishes the step and writes the checkpoint).
            return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        }
        catch (Exception e) when (e is CliException or ArgumentException or InvalidOperationException or IOException or NotSupportedException)
        {
            Console.Out.Flush();
            Console.Error.WriteLine("error: " + e.Message);
            return 2;
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
            "chars" or "char" or "bytes" or "words" or "gpt2" or "cl100k" => model.Tokenizer,
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
        var descriptor = SpecCompiler.Compile(new[] { spec }).Single(spec);
        var model = descriptor.Create();
        if (weights is not null)
        {
            if (!File.Exists(weights))
            {
                throw new CliException($"{weights}: no such file.");
            }

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
