using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.Linq;
using System.Text;

namespace SlmGen.Cli;

/// <summary>How a training setting's text is read.</summary>
public enum SettingKind
{
    /// <summary>Free text (a name, a path).</summary>
    Text,

    /// <summary>A whole number.</summary>
    Whole,

    /// <summary>A finite number.</summary>
    Number,

    /// <summary>On when given (a flag without a value; true or false in YAML).</summary>
    Switch,

    /// <summary>A duration: 90s, 10m, 2h, or off.</summary>
    Duration,
}

/// <summary>
/// One setting of a training run, declared once: its key (the run configuration's and a sweep's <c>train:</c> key), its
/// command-line flag (the key in kebab case), how it is read, its default, its rule and its help. <c>slmgen train</c>'s
/// options, the <c>--config</c> reader, sweeps' checks and the options table in docs/cli.md all come from these.
/// </summary>
/// <param name="Key">snake_case key.</param>
/// <param name="Kind">How the text is read.</param>
/// <param name="Default">The default as text (null: none, or one <paramref name="DefaultHelp"/> describes).</param>
/// <param name="Help">What it does.</param>
/// <param name="Min">The smallest value a number takes (null: any).</param>
/// <param name="Exclusive">Whether <paramref name="Min"/> itself is refused (a positive number).</param>
/// <param name="Below">A number must be below this (null: no bound).</param>
/// <param name="DefaultHelp">The default in words, where it depends on other settings.</param>
/// <param name="InSweeps">Whether a sweep's <c>train:</c> may set it (a sweep sets the seed and run directory itself).</param>
/// <param name="Choices">The names a text setting takes (null: any text).</param>
public sealed record TrainSetting(string Key, SettingKind Kind, string? Default, string Help, double? Min = null, bool Exclusive = false, double? Below = null, string? DefaultHelp = null, bool InSweeps = true, string[]? Choices = null)
{
    /// <summary>The command-line flag.</summary>
    public string Flag => "--" + Key.Replace('_', '-');

    /// <summary>The rule, in words ("a whole number of at least 1").</summary>
    public string Rule => Kind switch
    {
        SettingKind.Switch => "true or false",
        SettingKind.Duration => "a duration such as 90s, 10m or 2h, or off",
        SettingKind.Text when Key == "device" => "auto, cpu, cuda or cuda:N",
        SettingKind.Text when Choices is { } names => "one of " + string.Join(", ", names),
        SettingKind.Text => "text",
        _ => (Kind == SettingKind.Whole ? "a whole number" : "a number") + (Min is { } m
            ? Exclusive ? (m == 0 ? " above 0" : $" above {m.ToString(CultureInfo.InvariantCulture)}") : m == 0 ? " of 0 or more" : $" of at least {m.ToString(CultureInfo.InvariantCulture)}"
            : string.Empty) + (Below is { } b ? $" below {b.ToString(CultureInfo.InvariantCulture)}" : string.Empty),
    };

    /// <summary>Null when <paramref name="text"/> is a valid value, else the rule it breaks.</summary>
    public string? Problem(string text)
    {
        var t = text.Trim();
        bool InRange(double v) => double.IsFinite(v) && (Min is not { } m || (Exclusive ? v > m : v >= m)) && (Below is not { } b || v < b);
        var ok = Kind switch
        {
            SettingKind.Switch => t is "true" or "false",
            SettingKind.Duration => Durations.TryParse(t, out _),
            SettingKind.Whole => long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var w) && InRange(w) && (Key is "steps" or "seed" || w <= int.MaxValue),
            SettingKind.Number => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && InRange(d),
            _ when Choices is { } names => Array.IndexOf(names, t) >= 0,
            _ => Key != "device" || t is "auto" or "cpu" or "cuda" || (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t[5..], NumberStyles.None, CultureInfo.InvariantCulture, out _)),
        };
        return ok ? null : Rule + (Kind == SettingKind.Whole && Key is not ("steps" or "seed") ? $" up to {int.MaxValue:N0}" : string.Empty);
    }

    /// <summary>The command-line option: a switch for <see cref="SettingKind.Switch"/>, otherwise a value checked by <see cref="Problem"/>.</summary>
    public Option CreateOption()
    {
        var help = Help + (DefaultHelp ?? (Default is null ? string.Empty : $" (default {Default})"));
        if (Kind == SettingKind.Switch)
        {
            return new Option<bool>(Flag) { Description = help };
        }

        var option = new Option<string?>(Flag) { Description = help };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && Problem(value) is { } rule)
            {
                result.AddError($"{Flag} must be {rule} (got {value}).");
            }
        });
        return option;
    }
}

/// <summary>The training settings (<see cref="TrainSetting"/>), in the order of the help.</summary>
public static class TrainSettings
{
    public static readonly IReadOnlyList<TrainSetting> All = new TrainSetting[]
    {
        new("data", SettingKind.Text, null, SlmGen.Data.Corpora.Described + ", or a UTF-8 text file (characters, 90/10 split); required"),
        new("tokenizer", SettingKind.Text, null, "chars, bytes, words, gpt2, cl100k or bpe:DIR; the spec's vocab must equal its vocabulary", DefaultHelp: " (default: the spec's declared tokenizer, else the corpus's own)"),
        new("steps", SettingKind.Whole, "1000", "optimizer steps", Min: 1),
        new("batch", SettingKind.Whole, "32", "windows per step", Min: 1),
        new("lr", SettingKind.Number, "1e-3", "peak learning rate", Min: 0, Exclusive: true),
        new("min_lr", SettingKind.Number, null, "floor of the cosine decay", Min: 0, DefaultHelp: " (default lr/10)"),
        new("warmup", SettingKind.Whole, null, "warm-up steps", Min: 0, DefaultHelp: " (default 100, at most a tenth of the steps)"),
        new("schedule", SettingKind.Text, "cosine", "learning-rate schedule: cosine (warm-up, cosine decay to min_lr), warmdown (warm-up, stable, linear decay to min_lr over the last warmdown_fraction of the steps) or constant", Choices: new[] { "cosine", "warmdown", "constant" }),
        new("warmdown_fraction", SettingKind.Number, "0.2", "the share of the steps the warmdown schedule decays over", Min: 0, Exclusive: true),
        new("optimizer", SettingKind.Text, "adamw", "adamw, or muon: Muon (Newton–Schulz-orthogonalised momentum) for the hidden matrices, AdamW for embeddings, head and vectors", Choices: new[] { "adamw", "muon" }),
        new("muon_lr", SettingKind.Number, "0.02", "Muon's peak learning rate (the schedule scales it like lr)", Min: 0, Exclusive: true),
        new("muon_momentum", SettingKind.Number, "0.95", "Muon's momentum (Nesterov)", Min: 0, Below: 1),
        new("muon_steps", SettingKind.Whole, "5", "Muon's Newton–Schulz iterations", Min: 1),
        new("muon_weight_decay", SettingKind.Number, "0", "decoupled weight decay of Muon's matrices", Min: 0),
        new("embedding_lr", SettingKind.Number, null, "peak learning rate of the token and position embeddings", Min: 0, DefaultHelp: " (default lr)"),
        new("head_lr", SettingKind.Number, null, "peak learning rate of the LM head's matrices", Min: 0, DefaultHelp: " (default lr)"),
        new("gain_lr", SettingKind.Number, null, "peak learning rate of biases, norm scales, gains, mixes and skip weights", Min: 0, DefaultHelp: " (default lr)"),
        new("lora_lr", SettingKind.Number, null, "peak learning rate of LoRA adapters (shared blocks' lora_rank), with AdamW also under Muon", Min: 0, DefaultHelp: " (default: as the hidden matrices)"),
        new("ema_decay", SettingKind.Number, "0", "keep an exponential moving average of the weights with this decay (warmed up as min(decay, (1+n)/(10+n))); validation, best.ckpt and the final weights are the average's (0 = none)", Min: 0, Below: 1),
        new("z_loss", SettingKind.Number, "0", "add z · mean(logsumexp(logits)²) to the training loss (PaLM's z-loss; 0 = none)", Min: 0),
        new("eval_every", SettingKind.Whole, "250", "evaluate every N steps", Min: 1),
        new("eval_batches", SettingKind.Whole, "20", "random validation batches per evaluation", Min: 1),
        new("weight_decay", SettingKind.Number, "0.1", "AdamW weight decay on matrices", Min: 0),
        new("beta1", SettingKind.Number, "0.9", "AdamW's first-moment decay", Min: 0, Below: 1),
        new("beta2", SettingKind.Number, "0.99", "AdamW's second-moment decay", Min: 0, Below: 1),
        new("clip", SettingKind.Number, "1", "gradient-norm clip, 0 = off", Min: 0),
        new("seed", SettingKind.Whole, "1337", "seed of weights, dropout and batches", InSweeps: false),
        new("device", SettingKind.Text, "auto", "auto (CUDA when available), cpu, cuda or cuda:N"),
        new("run_dir", SettingKind.Text, null, "checkpoints (last.ckpt, best.ckpt), metrics.jsonl, TensorBoard events", DefaultHelp: " (default runs/<model>)", InSweeps: false),
        new("fp32", SettingKind.Switch, "false", "fp32 on CUDA too (otherwise bf16 compute over fp32 master weights)"),
        new("loss_chunk", SettingKind.Whole, "0", "compute the loss this many positions at a time, so the full logits never exist (0 = off)", Min: 0),
        new("test", SettingKind.Switch, "false", "also evaluate the whole test split at the end (bits per token, character and byte; in the result)"),
        new("eval_tokens", SettingKind.Whole, null, "score only the first N tokens of each split in the final evaluation", Min: 2, DefaultHelp: " (default: all)"),
        new("eval_stride", SettingKind.Whole, "0", "the final evaluations slide windows every N tokens, each token scored once with at least context − N tokens before it (0: non-overlapping windows, each token with 0 … context − 1 before it)", Min: 0),
        new("cuda_graphs", SettingKind.Switch, "false", "capture the training step as one CUDA graph (needs CUDA and libslmgen_native, docs/backends.md; otherwise eager, with the reason in the log)"),
        new("time_limit", SettingKind.Duration, "off", "end training when this much training time (evaluations excluded, checkpoint saves included: result.json's training_seconds) has passed, or at the last step, whichever comes first; the schedule's decay follows the time's share when it is ahead of the steps': 90s, 10m, 2h, or off"),
        new("qat_start", SettingKind.Number, "0", "start quantisation-aware training (a spec whose quantization has method qat) at this share of the steps; before it the weights train in full precision, and only evaluations after it compete for best.ckpt (0 = from the first step)", Min: 0, Below: 1),
        new("artifact", SettingKind.Switch, "false", "at the end, write the artifact at the spec's precision plan (<run-dir>/model.slmq: quantised, packed, compressed as declared, with the tokenizer) and score the model before and after the round trip, side by side"),
        new("calibration_windows", SettingKind.Whole, "128", "windows of the training split GPTQ's input statistics are taken over (quantization method gptq)", Min: 1),
        new("checkpoint_every", SettingKind.Duration, "10m", "also write last.ckpt when this much wall-clock time has passed since the last one: 90s, 10m, 2h, or off"),
    };

    private static readonly Dictionary<string, TrainSetting> ByKey = All.ToDictionary(s => s.Key, StringComparer.Ordinal);

    /// <summary>The setting of <paramref name="key"/>, or null.</summary>
    public static TrainSetting? Find(string key) => ByKey.GetValueOrDefault(key);

    /// <summary>The keys, comma-separated (for messages and help).</summary>
    public static string Keys(Func<TrainSetting, bool>? which = null) => string.Join(", ", All.Where(which ?? (_ => true)).Select(s => s.Key));

    /// <summary>The options table of docs/cli.md (a test keeps the file equal to it).</summary>
    public static string MarkdownTable()
    {
        var sb = new StringBuilder();
        sb.Append("| flag | `--config` / sweep `train:` key | value | default | what |\n|---|---|---|---|---|\n");
        foreach (var s in All)
        {
            var @default = s.DefaultHelp is { } words ? words.Trim().TrimStart('(').TrimEnd(')').Replace("default ", string.Empty, StringComparison.Ordinal).Replace("default: ", string.Empty, StringComparison.Ordinal) : s.Default ?? "none";
            sb.Append($"| `{s.Flag}` | `{s.Key}`{(s.InSweeps ? string.Empty : " (not in sweeps)")} | {s.Rule} | {@default} | {s.Help} |\n");
        }

        return sb.ToString();
    }
}
