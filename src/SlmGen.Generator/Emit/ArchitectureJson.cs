using System.Globalization;
using System.Linq;
using SlmGen.Generator.Model;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Planning;
using SlmGen.Generator.Validation;

namespace SlmGen.Generator.Emit;

/// <summary>
/// A model's resolved plan as JSON: every step with its field name, widths and settings — what another
/// framework needs to build the same module with the same parameter names. The generated model carries it
/// (<c>ArchitectureJson</c>, the PyTorch twin's config.json) and the cost report lists it per model.
/// </summary>
internal static class ArchitectureJson
{
    /// <summary>The whole model: name, vocabulary, context, fingerprint and the steps.</summary>
    public static string Of(ModelPlan plan, string fingerprint, bool predictsEveryPosition) =>
        "{ \"slmgen\": \"" + ModelEmitter.Version + "\", \"name\": " + Str(plan.ClassName) + ", \"fingerprint\": " + Str(fingerprint) +
        ", \"vocab\": " + plan.Vocab.ToString(CultureInfo.InvariantCulture) + ", \"declaredVocab\": " + plan.DeclaredVocab.ToString(CultureInfo.InvariantCulture) +
        ", \"tokenizer\": " + (plan.Tokenizer.Length == 0 ? "null" : Str(plan.Tokenizer)) + ", \"context\": " + plan.Context.ToString(CultureInfo.InvariantCulture) +
        ", \"predictsEveryPosition\": " + (predictsEveryPosition ? "true" : "false") +
        ", \"artifact\": " + Artifact(plan.Artifact) +
        ", \"architecture\": [" + string.Join(", ", plan.Steps.Select(Step)) + "] }";

    /// <summary>The precision plan of the artifact (docs/artifact.md): bits per part, scale group, storage types, quantiser, compression.</summary>
    public static string Artifact(ArtifactPlan a) =>
        $"{{ \"attention\": {a.Attention}, \"mlp\": {a.Mlp}, \"dense\": {a.Dense}, \"head\": {a.Head}, \"embedding\": {a.Embedding}, \"group\": {a.Group}, " +
        $"\"scales\": \"{ArtifactPlan.Name(a.Scales)}\", \"others\": \"{ArtifactPlan.Name(a.Others)}\", \"method\": \"{ArtifactPlan.Name(a.Quantizer)}\", \"compression\": \"{ArtifactPlan.Name(a.Compression)}\"" +
        (a.Grid == QuantGrid.Symmetric ? string.Empty : $", \"grid\": \"{ArtifactPlan.Name(a.Grid)}\"") + " }";

    /// <summary>One plan step as a JSON object: what a twin in another framework needs to build the same module (the PyTorch twin, src/SlmGen.Runtime/Interop/twin/model.py, reads it).</summary>
    public static string Step(PlanStep step)
    {
        static string B(bool b) => b ? "true" : "false";
        static string D(double d) => d.ToString("R", CultureInfo.InvariantCulture);
        var common = $"\"field\": {Str(step.Field)}, \"in\": {step.InWidth}, \"out\": {step.OutWidth}, \"perPosition\": {B(step.PerPosition)}";
        return step switch
        {
            EmbeddingStep e => $"{{ \"kind\": \"embedding\", {common}, \"vocab\": {e.Vocab}, \"bits\": {e.Bits} }}",
            PositionsStep p => $"{{ \"kind\": \"positions\", {common}, \"type\": {Str(Model.Names.Of(p.Kind))}, \"rows\": {p.Rows} }}",
            RopeStep r => $"{{ \"kind\": \"rope\", {common}, \"base\": {D(r.Base)} }}",
            BigramStep g => $"{{ \"kind\": \"bigram\", {common}, \"buckets\": {g.Buckets}, \"dim\": {g.Dim} }}",
            EmbeddingDropoutStep d => $"{{ \"kind\": \"dropout\", {common}, \"p\": {D(d.Probability)} }}",
            FlattenStep f => $"{{ \"kind\": \"flatten\", {common}, \"window\": {f.Window} }}",
            DenseStep d => $"{{ \"kind\": \"dense\", {common}, \"activation\": {Str(Model.Names.Of(d.Activation))}, \"bias\": {B(d.Bias)}, \"dropout\": {D(d.Dropout)}, \"bits\": {d.Bits} }}",
            StackStep s => Stack(s, common),
            FinalNormStep n => $"{{ \"kind\": \"final_norm\", {common}, \"norm\": {Str(Model.Names.Of(n.Kind))}, \"bias\": {B(n.Bias)} }}",
            HeadStep h => $"{{ \"kind\": \"head\", {common}, \"type\": {Str(h.Kind.ToString().ToLowerInvariant())}, \"rank\": {h.Rank}, \"groups\": {h.Groups}, {(h.Conditioned ? "\"conditioned\": true, " : string.Empty)}\"bias\": {B(h.Bias)}, \"bits\": {h.Bits}{(h.SoftCap > 0 ? $", \"softcap\": {D(h.SoftCap)}" : string.Empty)} }}",
            _ => "{}",
        };
    }

    /// <summary>A stack as the twin reads it: the block's settings flat, every block's shape in "shapes".</summary>
    private static string Stack(StackStep s, string common)
    {
        static string B(bool b) => b ? "true" : "false";
        static string D(double d) => d.ToString("R", CultureInfo.InvariantCulture);
        var (a, f, n, sharing) = (s.Block.Attention, s.Block.FeedForward, s.Block.Norm, s.Block.Sharing);
        return $"{{ \"kind\": \"transformer\", {common}, \"blocks\": {s.Blocks}, \"repeat\": {sharing.Repeat}, \"heads\": {a.Heads}, \"kvHeads\": {a.KvHeads}, \"headDim\": {a.HeadDim}, \"ffnHidden\": {f.Hidden}, " +
               $"\"activation\": {Str(Model.Names.Of(f.Activation))}, \"norm\": {Str(Model.Names.Of(n.Kind))}, \"normBias\": {B(n.Bias)}, \"preNorm\": {B(n.PreNorm)}, " +
               $"\"packedQkv\": {B(a.PackedQkv)}, \"attentionBias\": {B(a.Bias)}, \"ffnBias\": {B(f.Bias)}, \"dropout\": {D(s.Block.ResidualDropout)}, \"ffnDropout\": {D(f.Dropout)}, " +
               $"\"rope\": {B(a.Rope is not null)}, \"ropeBase\": {D(a.Rope?.Base ?? 0)}, \"blockRepeat\": {sharing.BlockRepeat}, \"loraRank\": {sharing.LoraRank}, \"attentionBits\": {a.WeightBits}, \"mlpBits\": {f.WeightBits}, " +
               string.Concat(s.Block.Extensions().Select(e => $"{Str(e.Key)}: {Value(e.Value)}, ")) + (s.UNetSkips ? "\"unetSkips\": true, " : string.Empty) +
               $"\"shapes\": [{string.Join(", ", Enumerable.Range(0, s.Blocks).Select(s.Shape).Select(x => $"[{x.Heads}, {x.KvHeads}, {x.HeadDim}, {x.FfnHidden}]"))}] }}";
    }

    private static string Str(string value) => Literals.String(value);

    /// <summary>A setting's value as JSON (an enum by its name).</summary>
    private static string Value(object value) => value switch
    {
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        int or long => System.Convert.ToString(value, CultureInfo.InvariantCulture)!,
        Act a => Str(Model.Names.Of(a)),
        NormKind n => Str(Model.Names.Of(n)),
        _ => Str(System.Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty),
    };
}
