using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.Json;
using TorchSharp.Modules;
using SlmGen.IO;

namespace SlmGen.Training;

/// <summary>
/// Metrics as JSON lines (metrics.jsonl: UTF-8 without a byte-order mark, one object a line) and TensorBoard
/// event files in the run directory. After a resume the file holds each step once: records past the
/// checkpoint's step are dropped (<see cref="RewindTo"/>).
/// </summary>
public sealed class RunLog : IDisposable
{
    /// <summary>The metrics file's name in the run directory.</summary>
    public const string MetricsFile = "metrics.jsonl";

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
    private readonly StreamWriter? jsonl;
    private readonly SummaryWriter? tensorboard;

    /// <summary>Opens the logs in <paramref name="directory"/> (nothing is written when it is null).</summary>
    public RunLog(string? directory, bool tensorBoard)
    {
        if (directory is null)
        {
            return;
        }

        Directory.CreateDirectory(directory);
        jsonl = new StreamWriter(Path.Combine(directory, MetricsFile), append: true, Utf8) { AutoFlush = true };
        if (tensorBoard)
        {
            tensorboard = TorchSharp.torch.utils.tensorboard.SummaryWriter(Path.Combine(directory, "tensorboard"));
        }
    }

    /// <summary>Writes one record; every value also goes to TensorBoard under its key.</summary>
    public void Write(string kind, long step, params (string Key, double Value)[] values)
    {
        jsonl?.WriteLine(Record(kind, step, w =>
        {
            foreach (var (key, value) in values)
            {
                if (double.IsFinite(value))
                {
                    w.WriteNumber(key, value);
                }
                else
                {
                    w.WriteNull(key);
                }
            }
        }));

        if (tensorboard is not null)
        {
            foreach (var (key, value) in values)
            {
                if (double.IsFinite(value))
                {
                    tensorboard.add_scalar(kind + "/" + key, (float)value, (int)step);
                }
            }
        }
    }

    /// <summary>
    /// Drops the records of steps after <paramref name="step"/> (what a run did after the checkpoint it resumes
    /// from) and appends an event record, e.g. a resume with the overrides it used. A torn last line is dropped too.
    /// </summary>
    public static void RewindTo(string directory, long step, string kind, params (string Key, string Value)[] fields)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, MetricsFile);
        var kept = new List<string>();
        if (File.Exists(path))
        {
            foreach (var line in File.ReadAllLines(path, Utf8))
            {
                if (StepOf(line) is { } s && s <= step)
                {
                    kept.Add(line);
                }
            }
        }

        kept.Add(Record(kind, step, w =>
        {
            foreach (var (key, value) in fields)
            {
                w.WriteString(key, value);
            }
        }));
        AtomicFile.Write(path, stream =>
        {
            var bytes = Utf8.GetBytes(string.Join("\n", kept) + "\n");
            stream.Write(bytes);
        });
    }

    /// <inheritdoc />
    public void Dispose()
    {
        jsonl?.Dispose();
    }

    private static string Record(string kind, long step, Action<Utf8JsonWriter> fields)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("kind", kind);
            w.WriteNumber("step", step);
            fields(w);
            w.WriteEndObject();
        }

        return Utf8.GetString(buffer.WrittenSpan);
    }

    private static long? StepOf(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line.TrimStart('\uFEFF'));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("step", out var s) && s.TryGetInt64(out var step) ? step : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The one-line progress display: a bar, ETA, loss and tokens/s (plain lines when output is redirected).</summary>
public sealed class ProgressLine
{
    private readonly TextWriter output;
    private readonly bool interactive;
    private readonly long total;
    private DateTime lastPlain = DateTime.MinValue;

    /// <summary>Creates the display for <paramref name="total"/> steps.</summary>
    public ProgressLine(TextWriter output, long total)
    {
        this.output = output;
        this.total = total;
        interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
    }

    /// <summary>Shows the state at <paramref name="step"/>.</summary>
    public void Show(long step, double loss, double? validation, double tokensPerSecond, TimeSpan elapsed)
    {
        var fraction = total > 0 ? (double)step / total : 1;
        var eta = fraction > 0 ? TimeSpan.FromSeconds(elapsed.TotalSeconds * (1 - fraction) / fraction) : TimeSpan.Zero;
        var val = validation is null ? string.Empty : $" val {validation:0.0000}";
        var text = $"step {step,6:N0}/{total:N0} {Bar(fraction)} {fraction,4:P0} loss {loss:0.0000}{val} | {tokensPerSecond,9:N0} tok/s | {Format(elapsed)} elapsed, ETA {Format(eta)}";
        if (interactive)
        {
            output.Write("\r" + text.PadRight(Console.WindowWidth > 0 ? Math.Min(Console.WindowWidth - 1, 140) : 120));
        }
        else if ((DateTime.UtcNow - lastPlain).TotalSeconds >= 5 || step == total)
        {
            output.WriteLine(text);
            lastPlain = DateTime.UtcNow;
        }
    }

    /// <summary>Ends the line before other output.</summary>
    public void Break()
    {
        if (interactive)
        {
            output.WriteLine();
        }
    }

    internal static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : $"{(int)t.TotalMinutes}m{t.Seconds:00}s";

    private static string Bar(double fraction)
    {
        const int width = 20;
        var filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * width);
        return "[" + new string('#', filled) + new string('.', width - filled) + "]";
    }
}
