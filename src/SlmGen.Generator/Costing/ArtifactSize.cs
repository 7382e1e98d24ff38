using System.Collections.Generic;
using System.Linq;
using System.Text;
using SlmGen.Generator.Model;
using SlmGen.Generator.Planning;

namespace SlmGen.Generator.Costing;

/// <summary>
/// The artifact file of a plan, sized to the byte from the shared layout (<see cref="ArtifactLayout"/>, the one the
/// runtime's writer follows): its tensors and its size before the tokenizer, which the writer adds as the file's
/// last tensor (<see cref="ArtifactLayout.FileBytes"/> with the tokenizer's bytes gives the total).
/// </summary>
internal static class ArtifactSize
{
    /// <summary>The stored tensors of the model's artifact, without the tokenizer.</summary>
    public static List<StoredTensor> Tensors(ModelPlan plan, string architectureJson) =>
        ArtifactLayout.Tensors(ParameterInventory.Of(plan.Steps), plan.Artifact, Encoding.UTF8.GetByteCount(architectureJson), -1);

    /// <summary>The file's bytes without the tokenizer.</summary>
    public static long Bytes(ModelPlan plan, string architectureJson) => ArtifactLayout.FileBytes(Tensors(plan, architectureJson));

    /// <summary>The parameters that cost the most bytes in the artifact (codes and scales together), largest first.</summary>
    public static IEnumerable<(string Name, long Bytes, int Bits, TensorPart Part)> Largest(ModelPlan plan, string architectureJson, int count)
    {
        var weights = ArtifactLayout.Weights(ParameterInventory.Of(plan.Steps), plan.Artifact);
        var byParameter = new List<(string Name, long Bytes, int Bits, TensorPart Part)>();
        for (var i = 0; i < weights.Count; i++)
        {
            var t = weights[i];
            if (t.Source is null)
            {
                continue;
            }

            var bytes = t.Bytes + (t.Bits > 0 && i + 1 < weights.Count && weights[i + 1].Source is null ? weights[i + 1].Bytes : 0);
            byParameter.Add((t.Source.Name, bytes, t.Bits, t.Source.Part));
        }

        return byParameter.OrderByDescending(x => x.Bytes).ThenBy(x => x.Name, System.StringComparer.Ordinal).Take(count);
    }
}
