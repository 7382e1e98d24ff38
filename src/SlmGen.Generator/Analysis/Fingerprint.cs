using System.Globalization;
using System.Text;
using SlmGen.Generator.Model;

namespace SlmGen.Generator.Analysis;

/// <summary>
/// A 64-bit FNV-1a hash of the architecture (shapes, layer kinds, norms, biases, head; not names, dropout or
/// initialisation): two specs with the same fingerprint have interchangeable weights.
/// </summary>
internal static class Fingerprint
{
    public static string Of(ModelSpec spec)
    {
        var sb = new StringBuilder();
        sb.Append("v1|vocab=").Append(spec.Vocab).Append("|context=").Append(spec.Context).Append("|width=").Append(spec.Width);
        sb.Append("|positions=").Append(spec.Positions.Kind).Append(',').Append(spec.Positions.Length).Append(',')
          .Append(spec.Positions.Kind == PositionKind.Rope ? spec.Positions.EffectiveRopeBase.ToString("R", CultureInfo.InvariantCulture) : "-");
        foreach (var layer in spec.Layers)
        {
            sb.Append('|');
            switch (layer)
            {
                case FlattenSpec f:
                    sb.Append("flatten,").Append(f.EffectiveWindow(spec.Context));
                    break;
                case DenseSpec d:
                    sb.Append("dense,").Append(d.Units).Append(',').Append(d.Activation).Append(',').Append(d.Bias);
                    break;
                case TransformerSpec t:
                    sb.Append("transformer,").Append(t.Layers).Append(',').Append(t.EffectiveRepeat).Append(',').Append(t.Heads).Append(',')
                      .Append(t.FfnHidden).Append(',').Append(t.FfnMultiplier.ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(t.Activation).Append(',').Append(t.Norm).Append(',')
                      .Append(t.NormBias).Append(',').Append(t.PreNorm).Append(',').Append(t.PackedQkv).Append(',')
                      .Append(t.AttentionBias).Append(',').Append(t.FfnBias);
                    break;
            }
        }

        sb.Append("|final=").Append(spec.FinalNorm.Kind).Append(',').Append(spec.FinalNorm.Bias);
        sb.Append("|head=").Append(spec.Head.Tied).Append(',').Append(spec.Head.Bias).Append(',').Append(spec.Head.Rank);

        const ulong offset = 14695981039346656037UL;
        const ulong prime = 1099511628211UL;
        var hash = offset;
        foreach (var b in Encoding.UTF8.GetBytes(sb.ToString()))
        {
            hash = unchecked((hash ^ b) * prime);
        }

        return hash.ToString("x16", CultureInfo.InvariantCulture);
    }
}
