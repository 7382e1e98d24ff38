using System;
using System.Linq;
using SlmGen.Artifacts;
using SlmGen.Data;
using SlmGen.Interop;
using SlmGen.Training;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Cli;

/// <summary>The scores of one split before and after the artifact's round trip.</summary>
/// <param name="Split">validation or test.</param>
/// <param name="Before">The model as trained (full precision, or fake-quantised under QAT).</param>
/// <param name="After">The model restored from the artifact.</param>
public sealed record RoundTripScore(string Split, EvalResult Before, EvalResult After);

/// <summary>Writes a trained model's artifact, reads it back into a fresh instance and scores both (<c>slmgen train --artifact</c>, <c>slmgen eval --artifact</c>).</summary>
public static class ArtifactRoundTrip
{
    /// <summary>The artifact options for a model trained on <paramref name="data"/>: its tokenizer embedded, GPTQ's statistics over <paramref name="calibrationWindows"/> windows of the training split.</summary>
    public static ArtifactOptions Options(SlmModel model, TokenDataset data, int calibrationWindows, Device device)
    {
        var tokenizer = HuggingFaceTokenizer.Json(data.Tokenizer);
        if (!ArtifactPlan.NeedsCalibration(model.ArtifactPlan.Quantizer))
        {
            return new ArtifactOptions { TokenizerJson = tokenizer };
        }

        // Evenly spaced windows of the training split (deterministic).
        var context = model.Context;
        var available = data.Train.Length - context;
        var count = (int)Math.Min(calibrationWindows, Math.Max(1, available));
        var ids = new long[count * context];
        for (var i = 0; i < count; i++)
        {
            var start = available <= 0 ? 0 : (long)i * available / count;
            for (var j = 0; j < context; j++)
            {
                ids[(i * context) + j] = data.Train[start + j];
            }
        }

        using var windows = tensor(ids).reshape(count, context);
        return new ArtifactOptions { TokenizerJson = tokenizer, Hessians = Calibration.Hessians(model, windows) };
    }

    /// <summary>Prints the side-by-side table and the artifact's bytes.</summary>
    public static void Print(SlmModel model, ArtifactWritten written, System.Collections.Generic.IReadOnlyList<RoundTripScore> scores)
    {
        var predicted = written.PredictedBytes;
        AnsiConsole.MarkupLine($"artifact [bold]{Markup.Escape(written.Path)}[/]: {written.Bytes:N0} bytes uncompressed (the build stated {model.Cost.ArtifactBytes:N0} before the tokenizer; with it {predicted:N0}: {(predicted == written.Bytes ? "equal" : "DIFFERENT")})" +
                               (written.Compression == ArtifactCompression.None ? string.Empty : $", {written.FileBytes:N0} bytes {ArtifactPlan.Name(written.Compression)}-compressed (ratio {written.Ratio:0.000}, {written.CompressSeconds:0.00} s)") +
                               $"; {Markup.Escape(model.ArtifactPlan.Describe())}");
        var table = new Table().AddColumns("split", "bits/char before", "after", "Δ", "bits/byte before", "after", "Δ");
        foreach (var s in scores)
        {
            table.AddRow(s.Split, $"{s.Before.BitsPerCharacter:0.0000}", $"{s.After.BitsPerCharacter:0.0000}", $"{s.After.BitsPerCharacter - s.Before.BitsPerCharacter:+0.0000;-0.0000;0.0000}",
                $"{s.Before.BitsPerByte:0.0000}", $"{s.After.BitsPerByte:0.0000}", $"{s.After.BitsPerByte - s.Before.BitsPerByte:+0.0000;-0.0000;0.0000}");
        }

        AnsiConsole.Write(table);
    }
}
