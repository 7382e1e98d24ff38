using System.Globalization;
using System.Text;
using SlmGen.Generator.Model;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Validation;

namespace SlmGen.Generator.Planning;

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
                case BigramStep g:
                    sb.Append("|bigram,").Append(g.Buckets).Append(',').Append(g.Dim);
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
                    // Kept as in v2 (checkpoints carry it): the first block's config, then per-block shapes when they differ.
                    var (att, ffn, norm, sharing) = (s.Block.Attention, s.Block.FeedForward, s.Block.Norm, s.Block.Sharing);
                    sb.Append("|transformer,").Append(s.Width).Append(',').Append(s.Blocks).Append(',').Append(sharing.Repeat).Append(',').Append(att.Heads).Append(',')
                      .Append(ffn.Hidden).Append(',').Append(ffn.Activation).Append(',').Append(norm.Kind).Append(',').Append(norm.Bias).Append(',')
                      .Append(norm.PreNorm).Append(',').Append(att.PackedQkv).Append(',').Append(att.Bias).Append(',').Append(ffn.Bias);
                    if (att.KvHeads != att.Heads || att.InnerWidth != s.Width)
                    {
                        sb.Append(",kv=").Append(att.KvHeads).Append(",hd=").Append(att.HeadDim);
                    }

                    if (sharing.BlockRepeat > 1 || sharing.LoraRank > 0)
                    {
                        sb.Append(",br=").Append(sharing.BlockRepeat).Append(",lora=").Append(sharing.LoraRank);
                    }

                    foreach (var extension in s.Block.Extensions())
                    {
                        sb.Append(',').Append(extension.Key).Append('=').Append(System.Convert.ToString(extension.Value, CultureInfo.InvariantCulture));
                    }

                    if (s.UNetSkips)
                    {
                        sb.Append(",unetSkips");
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
                        if (h.Conditioned)
                        {
                            sb.Append(",conditioned");
                        }
                    }

                    if (h.SoftCap > 0)
                    {
                        sb.Append(",softcap=").Append(h.SoftCap.ToString("R", CultureInfo.InvariantCulture)); // a cap changes the scores, not the weights' shapes; still a different model
                    }

                    break;
            }
        }

        return Fnv1a.Hex(sb.ToString());
    }
}
