using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using SlmGen.Data;
using SlmGen.Interop;
using static TorchSharp.torch;
using SlmGen.IO;

namespace SlmGen.Training;

/// <summary>What a checkpoint remembers of the data it was trained on: a resume on other data is refused.</summary>
/// <param name="Name">The data set's name (corpus and split).</param>
/// <param name="Vocab">Its vocabulary size.</param>
/// <param name="TrainTokens">Tokens in the training split.</param>
/// <param name="ValidationTokens">Tokens in the validation split.</param>
/// <param name="TestTokens">Tokens in the test split.</param>
/// <param name="Sha256">SHA-256 of the three splits' token ids (int32, little-endian, in split order).</param>
public sealed record DatasetIdentity(string Name, int Vocab, long TrainTokens, long ValidationTokens, long TestTokens, string Sha256)
{
    /// <summary>The identity of a data set.</summary>
    public static DatasetIdentity Of(TokenDataset data)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var split in new[] { data.Train, data.Validation, data.Test })
        {
            sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(split.AsSpan()));
        }

        return new DatasetIdentity(data.Name, data.VocabSize, data.Train.Length, data.Validation.Length, data.Test.Length,
            Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant());
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Name} (vocabulary {Vocab:N0}; {TrainTokens:N0} / {ValidationTokens:N0} / {TestTokens:N0} tokens; sha256 {(Sha256.Length >= 12 ? Sha256[..12] : "unknown")})";
}

/// <summary>The batch sampler's state.</summary>
public sealed record SamplerState(ulong Rng, ulong EpochSeed, long Position, bool InEpoch);

/// <summary>SlmGen's training state, kept as JSON in the checkpoint's safetensors metadata (<c>slmgen.state</c>).</summary>
public sealed record CheckpointState
{
    /// <summary>The model class.</summary>
    public string Model { get; init; } = "";

    /// <summary>The model's spec fingerprint: loading into another architecture is refused.</summary>
    public string Fingerprint { get; init; } = "";

    /// <summary>The data it was trained on (null for a checkpoint converted from the old format).</summary>
    public DatasetIdentity? Dataset { get; init; }

    /// <summary>Completed optimizer steps.</summary>
    public long Step { get; init; }

    /// <summary>Training seconds so far, evaluations excluded (the time limit's clock; 0 in checkpoints written before it was kept).</summary>
    public double TrainingSeconds { get; init; }

    /// <summary>Best validation NLL so far (null before the first evaluation).</summary>
    public double? BestValidation { get; init; }

    /// <summary>Step of the best validation NLL.</summary>
    public long BestStep { get; init; }

    /// <summary>Evaluations since the best one (early stopping).</summary>
    public int EvalsSinceBest { get; init; }

    /// <summary>Batch sampler state.</summary>
    public SamplerState Sampler { get; init; } = new(0, 0, 0, false);

    /// <summary>torch's CPU generator state (dropout), base64.</summary>
    public string TorchRngState { get; init; } = "";

    /// <summary>The training options that shape the trajectory (<see cref="TrainingOptions.Trajectory"/>); null for a converted checkpoint.</summary>
    public SortedDictionary<string, string>? Options { get; init; }

    /// <summary>Resume overrides used so far in this run, each as "step N: what".</summary>
    public List<string> Overrides { get; init; } = new();

    /// <summary>Set when the checkpoint was converted from the old format: its file name.</summary>
    public string? ConvertedFrom { get; init; }
}

/// <summary>Which weights of a checkpoint to load.</summary>
public enum CheckpointWeights
{
    /// <summary>
    /// The weights at the checkpoint's step — the weights' moving average when the run keeps one (ema_decay): what the
    /// run evaluates and ends with; the raw weights stay in the checkpoint for a resume.
    /// </summary>
    Latest,

    /// <summary>The best-validation weights (the latest when the checkpoint holds none).</summary>
    Best,
}

/// <summary>A checkpoint read into memory (CPU tensors, by parameter name).</summary>
public sealed class CheckpointContents : IDisposable
{
    internal CheckpointContents(CheckpointState state, Dictionary<string, Tensor> weights, Dictionary<string, Tensor> firstMoment, Dictionary<string, Tensor> secondMoment, Dictionary<string, Tensor> best, Dictionary<string, Tensor> ema)
    {
        State = state;
        Weights = weights;
        FirstMoment = firstMoment;
        SecondMoment = secondMoment;
        Best = best;
        Ema = ema;
    }

    /// <summary>The exponential moving average of the weights (empty when the run keeps none).</summary>
    public IReadOnlyDictionary<string, Tensor> Ema { get; }

    /// <summary>The training state.</summary>
    public CheckpointState State { get; }

    /// <summary>The weights (fp32).</summary>
    public IReadOnlyDictionary<string, Tensor> Weights { get; }

    /// <summary>AdamW's first moments.</summary>
    public IReadOnlyDictionary<string, Tensor> FirstMoment { get; }

    /// <summary>AdamW's second moments.</summary>
    public IReadOnlyDictionary<string, Tensor> SecondMoment { get; }

    /// <summary>The best-validation weights (empty when none).</summary>
    public IReadOnlyDictionary<string, Tensor> Best { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in Weights.Values.Concat(FirstMoment.Values).Concat(SecondMoment.Values).Concat(Best.Values).Concat(Ema.Values))
        {
            t.Dispose();
        }
    }
}

/// <summary>
/// Checkpoints as safetensors files. The weights are stored under the model's own parameter names (the names
/// of its PyTorch twin, so <c>safetensors.torch.load_file</c> gives a state_dict), AdamW's moments under
/// <c>_adamw.exp_avg.NAME</c> / <c>_adamw.exp_avg_sq.NAME</c>, the best-validation weights under
/// <c>_best.NAME</c>, the weights' moving average (when the run keeps one) under <c>_ema.NAME</c>; the training state is JSON in the metadata, and a SHA-256 of the whole file, header
/// included, is sealed into it: any changed byte is refused. Written atomically (<see cref="AtomicFile"/>).
/// </summary>
public static class Checkpoint
{
    /// <summary>The format tag in the metadata.</summary>
    public const string FormatTag = "slmgen-checkpoint/2";

    /// <summary>Metadata key of the format tag.</summary>
    public const string FormatKey = "slmgen.format";

    /// <summary>Metadata key of the training state (JSON).</summary>
    public const string StateKey = "slmgen.state";

    /// <summary>Metadata key of the whole-file SHA-256.</summary>
    public const string DigestKey = "slmgen.sha256";

    /// <summary>Name prefix of AdamW's first moments.</summary>
    public const string FirstMomentPrefix = "_adamw.exp_avg.";

    /// <summary>Name prefix of AdamW's second moments.</summary>
    public const string SecondMomentPrefix = "_adamw.exp_avg_sq.";

    /// <summary>Name prefix of the best-validation weights.</summary>
    public const string BestPrefix = "_best.";

    /// <summary>Name prefix of the weights' exponential moving average.</summary>
    public const string EmaPrefix = "_ema.";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Writes a checkpoint atomically: flat fp32 buffers are cut into parameters by <paramref name="layout"/>.</summary>
    public static void Save(
        string path,
        CheckpointState state,
        IReadOnlyList<(string Name, long Offset, long[] Shape)> layout,
        Tensor master,
        Tensor firstMoment,
        Tensor secondMoment,
        Tensor? best = null,
        Tensor? ema = null)
    {
        using var scope = NewDisposeScope();
        var tensors = new List<(string, Tensor)>();
        void Add(string prefix, Tensor flat)
        {
            foreach (var (name, offset, shape) in layout)
            {
                tensors.Add((prefix + name, flat.narrow(0, offset, shape.Aggregate(1L, (a, b) => a * b)).view(shape).to(ScalarType.Float32)));
            }
        }

        Add("", master);
        Add(FirstMomentPrefix, firstMoment);
        Add(SecondMomentPrefix, secondMoment);
        if (best is not null)
        {
            Add(BestPrefix, best);
        }

        if (ema is not null)
        {
            Add(EmaPrefix, ema);
        }

        Write(path, state, tensors);
    }

    /// <summary>Reads and verifies a checkpoint's state only (the whole file is still hashed).</summary>
    /// <exception cref="InvalidDataException">The file is not an SlmGen checkpoint, or it was changed or damaged.</exception>
    public static CheckpointState ReadState(string path)
    {
        using var stream = SlmGen.IO.InputFile.OpenRead(path, "checkpoint");
        return Open(stream, path).State;
    }

    /// <summary>Reads and verifies a checkpoint.</summary>
    /// <exception cref="InvalidDataException">The file is not an SlmGen checkpoint, or it was changed or damaged.</exception>
    public static CheckpointContents Load(string path)
    {
        using var stream = SlmGen.IO.InputFile.OpenRead(path, "checkpoint");
        var (header, state) = Open(stream, path);
        var all = SafetensorsFile.ReadTensors(stream, header);
        Dictionary<string, Tensor> Take(Func<string, bool> which, string prefix) =>
            all.Where(kv => which(kv.Key)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value, StringComparer.Ordinal);
        return new CheckpointContents(
            state,
            Take(n => !n.StartsWith('_'), ""),
            Take(n => n.StartsWith(FirstMomentPrefix, StringComparison.Ordinal), FirstMomentPrefix),
            Take(n => n.StartsWith(SecondMomentPrefix, StringComparison.Ordinal), SecondMomentPrefix),
            Take(n => n.StartsWith(BestPrefix, StringComparison.Ordinal), BestPrefix),
            Take(n => n.StartsWith(EmaPrefix, StringComparison.Ordinal), EmaPrefix));
    }

    /// <summary>
    /// Loads a checkpoint's weights into <paramref name="model"/> for evaluation or sampling (no optimizer
    /// state), after checking that it holds this architecture and exactly this model's parameters.
    /// </summary>
    public static CheckpointState LoadWeights(SlmModel model, string path, CheckpointWeights which = CheckpointWeights.Latest)
    {
        using var contents = Load(path);
        EnsureCompatible(contents.State, model, path);
        var weights = which == CheckpointWeights.Best && contents.Best.Count > 0 ? contents.Best
            : contents.Ema.Count > 0 ? contents.Ema
            : contents.Weights;
        var parameters = model.named_parameters().ToList();
        using var noGrad = no_grad();
        foreach (var (name, p) in parameters)
        {
            p.copy_(Match(weights, name, p.shape, path).to(p.dtype).to(p.device));
        }

        EnsureNoExtra(weights, parameters.Select(p => p.name), path);
        return contents.State;
    }

    /// <summary>The weights under <paramref name="layout"/>, as one flat fp32 buffer; every name must be there with its shape, and no other.</summary>
    public static Tensor Flatten(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyList<(string Name, long Offset, long[] Shape)> layout, string path)
    {
        var total = layout.Sum(l => l.Shape.Aggregate(1L, (a, b) => a * b));
        var flat = zeros(total, dtype: ScalarType.Float32);
        using var noGrad = no_grad();
        foreach (var (name, offset, shape) in layout)
        {
            var t = Match(tensors, name, shape, path);
            using var scope = NewDisposeScope(); // holds the views and the conversion while libtorch copies (docs/backends.md, "Tensors have the same race")
            flat.narrow(0, offset, t.numel()).copy_(t.reshape(-1).to(ScalarType.Float32));
        }

        EnsureNoExtra(tensors, layout.Select(l => l.Name), path);
        return flat;
    }

    /// <summary>Refuses a checkpoint of another architecture with a message that names both.</summary>
    public static void EnsureCompatible(CheckpointState state, SlmModel model, string path)
    {
        if (state.Fingerprint != model.Fingerprint)
        {
            throw new InvalidOperationException(
                $"Checkpoint {path} holds a '{state.Model}' (architecture {state.Fingerprint}); it cannot be loaded into '{model.GetName()}' (architecture {model.Fingerprint}). " +
                "Load it into the model it was trained with.");
        }
    }

    /// <summary>
    /// Converts a checkpoint of the old format (<c>slmgen-checkpoint/1</c>, its tensor checksum checked) to this
    /// one. The old format did not record the data's contents or the training options, so a resume from the
    /// result needs both overrides (<see cref="ResumeOverrides"/>).
    /// </summary>
    public static CheckpointState ConvertLegacy(string oldPath, string newPath)
    {
        if (!LegacyCheckpoint.Is(oldPath))
        {
            throw new InvalidDataException($"{oldPath} is not an SlmGen checkpoint of the old format.");
        }

        var (h, tensors) = LegacyCheckpoint.Load(oldPath);
        try
        {
            var layout = h.Parameters.Select(p => (p.Name, p.Offset, p.Shape)).ToList();
            var state = new CheckpointState
            {
                Model = h.Model,
                Fingerprint = h.Fingerprint,
                Step = h.Step,
                BestValidation = double.IsFinite(h.BestValidation) ? h.BestValidation : null,
                BestStep = h.BestStep,
                EvalsSinceBest = h.EvalsSinceBest,
                Sampler = new SamplerState(h.SamplerRng, h.SamplerEpochSeed, h.SamplerPosition, h.SamplerInEpoch),
                TorchRngState = h.TorchRngState,
                ConvertedFrom = Path.GetFileName(oldPath) + " (" + h.Dataset + ")",
            };
            Save(newPath, state, layout, tensors["master"], tensors["adam.m"], tensors["adam.v"], tensors.GetValueOrDefault("best"));
            return state;
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }
    }

    private static void Write(string path, CheckpointState state, IReadOnlyList<(string, Tensor)> tensors)
    {
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            [FormatKey] = FormatTag,
            [StateKey] = JsonSerializer.Serialize(state, Json),
        };
        AtomicFile.Write(path, stream => SafetensorsFile.Write(stream, tensors, metadata, DigestKey));
    }

    private static (SafetensorsHeader Header, CheckpointState State) Open(FileStream stream, string path)
    {
        if (LegacyCheckpoint.Is(path))
        {
            throw new InvalidDataException(
                $"{path} is an SlmGen checkpoint of the old format ({LegacyCheckpoint.FormatTag}), which is no longer read: its checksum did not cover its header. " +
                "Convert it with SlmGen.Training.Checkpoint.ConvertLegacy(oldPath, newPath); a resume from the result needs ResumeOverrides.OtherData | ResumeOverrides.ChangedOptions, because the old format recorded neither the data's contents nor the options.");
        }

        var header = SafetensorsFile.ReadHeader(stream, path);
        if (!header.Metadata.TryGetValue(FormatKey, out var format) || !header.Metadata.TryGetValue(StateKey, out var json))
        {
            throw new InvalidDataException($"{path} is a safetensors file but not an SlmGen checkpoint (its metadata has no '{FormatKey}' and '{StateKey}'). To load weights exported from PyTorch, use SlmGen.Interop.PyTorchTwin.ImportWeights.");
        }

        if (format != FormatTag)
        {
            throw new InvalidDataException($"Checkpoint {path} has format '{format}'; this SlmGen reads '{FormatTag}'.");
        }

        SafetensorsFile.VerifyDigest(stream, header, DigestKey);
        CheckpointState state;
        try
        {
            state = JsonSerializer.Deserialize<CheckpointState>(json, Json) ?? throw new InvalidDataException($"Checkpoint {path} has an empty state.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Checkpoint {path} has an unreadable state: {e.Message}", e);
        }

        if (state.Step < 0 || state.BestStep < 0 || state.BestStep > state.Step || state.EvalsSinceBest < 0 || state.BestValidation is { } b && !double.IsFinite(b) || !double.IsFinite(state.TrainingSeconds) || state.TrainingSeconds < 0)
        {
            throw new InvalidDataException($"Checkpoint {path} has an inconsistent state (step {state.Step}, best {state.BestValidation} at step {state.BestStep}).");
        }

        return (header, state);
    }

    private static Tensor Match(IReadOnlyDictionary<string, Tensor> tensors, string name, long[] shape, string path)
    {
        if (!tensors.TryGetValue(name, out var t))
        {
            throw new InvalidDataException($"Checkpoint {path} has no tensor '{name}'; it was written for other parameters.");
        }

        if (!t.shape.SequenceEqual(shape))
        {
            throw new InvalidDataException($"Checkpoint {path} stores '{name}' as [{string.Join(", ", t.shape)}], the model's is [{string.Join(", ", shape)}].");
        }

        if (!t.is_floating_point())
        {
            throw new InvalidDataException($"Checkpoint {path} stores '{name}' as {SafetensorsFile.DTypeOf(t.dtype)}; weights and optimizer state are floating-point (SlmGen writes F32).");
        }

        return t;
    }

    private static void EnsureNoExtra(IReadOnlyDictionary<string, Tensor> tensors, IEnumerable<string> expected, string path)
    {
        var extra = tensors.Keys.Except(expected, StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
        {
            throw new InvalidDataException($"Checkpoint {path} has tensors the model lacks: {string.Join(", ", extra.Take(5))}{(extra.Count > 5 ? ", …" : "")}.");
        }
    }
}

/// <summary>What a resume may accept that it refuses by default; every override used is recorded in the run log and the checkpoint.</summary>
[Flags]
public enum ResumeOverrides
{
    /// <summary>Refuse other data and changed options.</summary>
    None = 0,

    /// <summary>Continue on a data set other than the checkpoint's.</summary>
    OtherData = 1,

    /// <summary>Continue with training options other than the checkpoint's.</summary>
    ChangedOptions = 2,
}
