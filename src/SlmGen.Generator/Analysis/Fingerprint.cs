using System.Globalization;
using System.Text;
using SlmGen.Generator.Model;

namespace SlmGen.Generator.Analysis;

/// <summary>
/// A 64-bit FNV-1a hash of the resolved architecture (shapes, layer kinds, norms, biases, head; not names,
/// dropout or initialisation): two models with the same fingerprint have interchangeable weights.
/// </summary>
internal static class Fingerprint
{
    public static string Of(ModelPlan plan)
    {
        var sb = new StringBuilder();
        sb.Append("v2|vocab=").Append(plan.Vocab).Append("|context=").Append(plan.Context).Append("|width=").Append(plan.Width);
        foreach (var step in plan.Steps)
        {
            switch (step)
            {
                case EmbeddingStep:
                case EmbeddingDropoutStep:
                    break;
                case PositionsStep p:
                    sb.Append("|positions,").Append(p.Kind).Append(',').Append(p.Rows);
                    break;
                case RopeStep r:
                    sb.Append("|rope,").Append(r.Base.ToString("R", CultureInfo.InvariantCulture));
                    break;
                case FlattenStep f:
                    sb.Append("|flatten,").Append(f.Window);
                    break;
                case DenseStep d:
                    sb.Append("|dense,").Append(d.InWidth).Append(',').Append(d.OutWidth).Append(',').Append(d.Activation).Append(',').Append(d.Bias);
                    break;
                case StackStep s:
                    sb.Append("|transformer,").Append(s.Width).Append(',').Append(s.Blocks).Append(',').Append(s.Repeat).Append(',').Append(s.Heads).Append(',')
                      .Append(s.FfnHidden).Append(',').Append(s.Activation).Append(',').Append(s.Norm).Append(',').Append(s.NormBias).Append(',')
                      .Append(s.PreNorm).Append(',').Append(s.PackedQkv).Append(',').Append(s.AttentionBias).Append(',').Append(s.FfnBias);
                    if (s.KvHeads != s.Heads || s.InnerWidth != s.Width)
                    {
                        sb.Append(",kv=").Append(s.KvHeads).Append(",hd=").Append(s.HeadDim);
                    }

                    if (s.BlockRepeat > 1 || s.LoraRank > 0)
                    {
                        sb.Append(",br=").Append(s.BlockRepeat).Append(",lora=").Append(s.LoraRank);
                    }

                    foreach (var shape in s.Shapes)
                    {
                        sb.Append(",[").Append(shape.Heads).Append(',').Append(shape.KvHeads).Append(',').Append(shape.HeadDim).Append(',').Append(shape.FfnHidden).Append(']');
                    }
                    break;
                case FinalNormStep n:
                    sb.Append("|final,").Append(n.Kind).Append(',').Append(n.Bias);
                    break;
                case HeadStep h:
                    sb.Append("|head,").Append(h.Kind).Append(',').Append(h.Bias).Append(',').Append(h.Rank);
                    if (h.Groups > 0)
                    {
                        sb.Append(",groups=").Append(h.Groups);
                    }

                    break;
            }
        }

        return Fnv1a.Hex(sb.ToString());
    }
}
