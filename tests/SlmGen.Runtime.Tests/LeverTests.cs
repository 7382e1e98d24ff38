using System.Linq;
using SlmGen.Layers;
using SlmGen.Samples.Declared;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>The compact-model levers on real tensors: grouped-query attention, shared blocks with LoRA.</summary>
public class LeverTests
{
    private static ModelDescriptor Find(string name) => ModelCatalog.Find(typeof(BabyGpt).Assembly, "SlmGen.Samples." + name);

    [Fact]
    public void A_model_with_lora_adapters_moves_between_dtypes_and_devices_and_starts_as_its_shared_block()
    {
        using var model = Find("LeverSharedLora").Create();
        model.to(ScalarType.Float64).to(ScalarType.Float32).to(CPU);
        var adapters = model.modules().OfType<LoraAdapter>().ToList();
        Assert.Equal(4 * 5, adapters.Count); // 4 applications × (qkv, proj, fc, gate, proj) of one SwiGLU block
        // B starts at zero, so every application begins as the shared block itself.
        Assert.All(model.named_parameters().Where(p => p.name.EndsWith("B.weight", System.StringComparison.Ordinal)),
            p => Assert.Equal(0.0, p.parameter.abs().max().item<float>()));
    }

    [Fact]
    public void Grouped_query_attention_equals_multi_head_attention_with_repeated_key_value_weights()
    {
        // 4 query heads over 2 k/v heads: the same output as full attention whose k/v weights repeat each
        // k/v head for its group of 2 query heads.
        manual_seed(3);
        const int d = 16, heads = 4, kv = 2, hd = d / heads;
        var gqa = new CausalSelfAttention(d, heads, packedQkv: false, bias: false, dropout: 0, context: 8, rope: true, kvHeads: kv);
        var mha = new CausalSelfAttention(d, heads, packedQkv: false, bias: false, dropout: 0, context: 8, rope: true);
        using (no_grad())
        {
            var g = gqa.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            var m = mha.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            m["q_proj.weight"].copy_(g["q_proj.weight"]);
            m["proj.weight"].copy_(g["proj.weight"]);
            foreach (var name in new[] { "k_proj.weight", "v_proj.weight" })
            {
                // (kv·hd, d) → (heads·hd, d): each k/v head's rows repeated for its group.
                m[name].copy_(g[name].view(kv, hd, d).repeat_interleave(heads / kv, 0).reshape(heads * hd, d));
            }
        }

        gqa.eval();
        mha.eval();
        var x = randn(2, 8, d);
        var difference = (gqa.call(x) - mha.call(x)).abs().max().item<float>();
        Assert.True(difference < 1e-5, $"max difference {difference}");
        Assert.Equal((d * d) + (2 * d * kv * hd) + (d * d), gqa.parameters().Sum(p => p.numel()));
    }
}
