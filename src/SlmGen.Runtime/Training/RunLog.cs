using System;
using System.Globalization;
using System.IO;
using System.Text;
using TorchSharp.Modules;

namespace SlmGen.Training;

/// <summary>Metrics as JSON lines (metrics.jsonl) and TensorBoard event files in the run directory.</summary>
public sealed class RunLog : IDisposable
{
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
        jsonl = new StreamWriter(Path.Combine(directory, "metrics.jsonl"), append: true, Encoding.UTF8) { AutoFlush = true };
        if (tensorBoard)
        {
            tensorboard = TorchSharp.torch.utils.tensorboard.SummaryWriter(Path.Combine(directory, "tensorboard"));
        }
    }

    /// <summary>Writes one record; every value also goes to TensorBoard under its key.</summary>
    public void Write(string kind, long step, params (string Key, double Value)[] values)
    {
        if (jsonl is not null)
        {
            var sb = new StringBuilder();
            sb.Append("{\"kind\":\"").Append(kind).Append("\",\"step\":").Append(step.ToString(CultureInfo.InvariantCulture));
            foreach (var (key, value) in values)
            {
                sb.Append(",\"").Append(key).Append("\":");
                sb.Append(double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : "null");
            }

            sb.Append('}');
            jsonl.WriteLine(sb.ToString());
        }

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

    /// <inheritdoc />
    public void Dispose()
    {
        jsonl?.Dispose();
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
