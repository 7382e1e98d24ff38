using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// llama.cpp (LLamaSharp's CPU backend) driven token by token — what a GGUF file computes — in a process of its own
/// (tests/SlmGen.LlamaHost): a native fault in llama.cpp fails the test that asked, with the exit status and llama.cpp's
/// log, and leaves the test host and libtorch's threads alone.
/// </summary>
internal sealed class LlamaCpp : IDisposable
{
    private static readonly TimeSpan RequestLimit = TimeSpan.FromMinutes(3);
    private readonly Process process;
    private readonly StringBuilder log = new();
    private readonly string path;

    public LlamaCpp(string path, int context, bool fp32Cache = true)
    {
        this.path = path;
        var host = typeof(LlamaCpp).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "SlmGen.LlamaHost").Value!;
        if (!File.Exists(host))
        {
            throw new FileNotFoundException($"the llama.cpp host is not built: {host}");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardInputEncoding = new UTF8Encoding(false),
        };
        foreach (var argument in new[] { host, path, context.ToString(System.Globalization.CultureInfo.InvariantCulture) }.Concat(fp32Cache ? Array.Empty<string>() : new[] { "f16-cache" }))
        {
            start.ArgumentList.Add(argument);
        }

        process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) =>
        {
            lock (log)
            {
                if (e.Data is not null && log.Length < 1 << 20)
                {
                    log.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        Vocabulary = Ask(new JsonObject { ["op"] = "vocabulary" })["vocabulary"]!.GetValue<int>();
    }

    public int Vocabulary { get; }

    /// <summary>A character tokenizer of exactly <paramref name="size"/> characters (new line, ASCII, then Latin and beyond).</summary>
    public static SlmGen.Data.CharTokenizer Characters(int size)
    {
        var chars = new System.Text.StringBuilder("\n");
        for (var c = 32; chars.Length < size; c++)
        {
            if (c is >= 127 and < 0xA1 || char.IsSurrogate((char)c))
            {
                continue;
            }

            chars.Append((char)c);
        }

        return new SlmGen.Data.CharTokenizer(chars.ToString());
    }

    /// <summary>The logits after each of <paramref name="ids"/> (one batch, a fresh cache).</summary>
    public float[][] Logits(IReadOnlyList<int> ids) =>
        Ask(new JsonObject { ["op"] = "logits", ["ids"] = Ids(ids) })["logits"]!.AsArray().Select(r => r!.AsArray().Select(v => v!.GetValue<float>()).ToArray()).ToArray();

    /// <summary>Greedy decoding with llama.cpp's KV cache: the prompt in one batch, then one token per step.</summary>
    public List<int> Greedy(IReadOnlyList<int> prompt, int count) =>
        IdsOf(Ask(new JsonObject { ["op"] = "greedy", ["prompt"] = Ids(prompt), ["count"] = count })).ToList();

    /// <summary>The text llama.cpp's vocabulary gives the ids.</summary>
    public string Text(IReadOnlyList<int> ids) => Ask(new JsonObject { ["op"] = "text", ["ids"] = Ids(ids) })["text"]!.GetValue<string>();

    /// <summary>llama.cpp's own tokenizer on <paramref name="text"/>.</summary>
    public int[] Tokenize(string text) => IdsOf(Ask(new JsonObject { ["op"] = "tokenize", ["text"] = text }));

    private static JsonNode Ids(IReadOnlyList<int> ids) => JsonSerializer.SerializeToNode(ids.ToArray())!;

    private static int[] IdsOf(JsonObject answer) => answer["ids"]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();

    private JsonObject Ask(JsonObject request)
    {
        string? line = null;
        try
        {
            process.StandardInput.WriteLine(request.ToJsonString());
            process.StandardInput.Flush();
            var read = process.StandardOutput.ReadLineAsync();
            if (!read.Wait(RequestLimit))
            {
                process.Kill(entireProcessTree: true);
                throw Failure($"no answer to '{request["op"]}' within {RequestLimit.TotalMinutes} minutes");
            }

            line = read.Result;
        }
        catch (IOException e)
        {
            throw Failure($"the pipe broke ({e.Message})");
        }

        if (line is null)
        {
            throw Failure($"no answer to '{request["op"]}'");
        }

        try
        {
            return JsonNode.Parse(line)!.AsObject();
        }
        catch (JsonException)
        {
            throw Failure($"an answer to '{request["op"]}' that is not JSON: {(line.Length > 200 ? line[..200] + "…" : line)}");
        }
    }

    private InvalidOperationException Failure(string what)
    {
        process.WaitForExit(10_000);
        var status = process.HasExited ? $"exit status {process.ExitCode}" + (process.ExitCode > 128 ? $" (signal {process.ExitCode - 128})" : string.Empty) : "still running";
        string tail;
        lock (log)
        {
            var lines = log.ToString().Split('\n');
            tail = string.Join('\n', lines.Skip(Math.Max(0, lines.Length - 30)));
        }

        return new InvalidOperationException($"llama.cpp on {path}: {what}; {status}; its log ends:\n{tail}");
    }

    public void Dispose()
    {
        try
        {
            process.StandardInput.Close();
            if (!process.WaitForExit(30_000))
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }

        process.Dispose();
    }
}
