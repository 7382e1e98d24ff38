using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using SlmGen.Training;
using static TorchSharp.torch;
using SlmGen.IO;

namespace SlmGen.Interop;

/// <summary>
/// A model in Hugging Face's form (config.json + model.safetensors that <c>transformers</c> loads with
/// <c>AutoModelForCausalLM</c>), for the two shapes it has an exact equivalent of:
/// <list type="bullet">
/// <item>GPT-2: learned positions, pre-LayerNorm, GELU MLP, one transformer stack with heads × head size =
/// width and no grouped-query attention, LayerNorm at the end, a tied or bias-free head. Biases the spec
/// leaves out are written as zeros (the same function); GPT-2's Conv1D weights are the transposed Linear weights.</item>
/// <item>Llama: rotary positions, pre-RMSNorm, SwiGLU MLP, grouped-query attention and any head size, RMSNorm at
/// the end, a tied or bias-free head; attention and MLP biases map to <c>attention_bias</c> / <c>mlp_bias</c>.</item>
/// </list>
/// Whole-stack and block-wise repeats are unrolled into repeated layers (the same weights written again).
/// Everything else — flatten and dense layers, post-norm, sinusoidal positions, per-block shapes, LoRA,
/// quantisation — has no exact Hugging Face equivalent; <see cref="Unsupported"/> says which.
/// </summary>
public static class HuggingFaceExport
{
    /// <summary>Why the model has no Hugging Face form, or null when it has one.</summary>
    public static string? Unsupported(SlmModel model) => Family(model.Plan).Reason;

    /// <summary>
    /// Writes config.json, generation_config.json and model.safetensors for transformers into <paramref name="directory"/>;
    /// <paramref name="special"/> names the tokenizer's beginning- and end-of-text ids (null: none, written as null, never 0).
    /// </summary>
    /// <exception cref="NotSupportedException">The model has no Hugging Face form (the message says why).</exception>
    public static void Export(SlmModel model, string directory, SpecialTokens? special = null)
    {
        using var scope = NewDisposeScope();
        var (family, config, tensors, tied) = Convert(model);
        // What both families' configs say alike.
        config["initializer_range"] = 0.02;
        config["tie_word_embeddings"] = tied;
        config["bos_token_id"] = special?.Bos;
        config["eos_token_id"] = special?.Eos;
        config["torch_dtype"] = "float32";
        config["slmgen_model"] = model.GetName();
        config["slmgen_fingerprint"] = model.Fingerprint;

        Directory.CreateDirectory(directory);
        AtomicFile.Write(Path.Combine(directory, "config.json"), s => JsonSerializer.Serialize(s, config, new JsonSerializerOptions { WriteIndented = true }));
        var generation = new JsonObject
        {
            ["_from_model_config"] = true,
            ["bos_token_id"] = special?.Bos,
            ["eos_token_id"] = special?.Eos,
            ["max_length"] = model.Context,
        };
        AtomicFile.Write(Path.Combine(directory, "generation_config.json"), s => JsonSerializer.Serialize(s, generation, new JsonSerializerOptions { WriteIndented = true }));
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["slmgen.model"] = model.GetName(), [PyTorchTwin.FingerprintKey] = model.Fingerprint };
        AtomicFile.Write(Path.Combine(directory, "model.safetensors"), s => SafetensorsFile.Write(s, tensors.Select(t => (t.Item1, t.Item2.contiguous())).ToList(), metadata));
    }

    /// <summary>
    /// The model in Hugging Face's form, in memory: its family ("gpt2" or "llama"), transformers' config and the tensors by
    /// transformers' names (fp32, on the CPU; created in the caller's dispose scope). The GGUF export starts from it.
    /// </summary>
    /// <exception cref="NotSupportedException">The model has no Hugging Face form (the message says why).</exception>
    internal static (string Family, JsonObject Config, List<(string Name, Tensor Tensor)> Tensors, bool Tied) Convert(SlmModel model)
    {
        var plan = model.Plan;
        var (family, reason) = Family(plan);
        if (family is null)
        {
            throw new NotSupportedException($"{model.GetName()} has no Hugging Face form: {reason}");
        }

        var stack = plan.OfType<StackStep>().Single();
        var head = plan.OfType<HeadStep>().Single();
        var tied = head.Kind == HeadKind.Tied;
        var weights = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().to(ScalarType.Float32).cpu());
        var sharing = stack.Block.Sharing;
        var order = new List<int>();
        for (var p = 0; p < sharing.Repeat; p++)
        {
            for (var i = 0; i < stack.Blocks; i++)
            {
                for (var k = 0; k < sharing.BlockRepeat; k++)
                {
                    order.Add(i);
                }
            }
        }

        var tensors = new List<(string, Tensor)>();
        var config = family == "gpt2"
            ? Gpt2(model, plan, stack, order, weights, tensors)
            : Llama(model, plan, stack, order, weights, tensors);
        if (!tied)
        {
            tensors.Add(("lm_head.weight", weights[head.Field + ".weight"]));
        }

        return (family, config, tensors, tied);
    }

    private static JsonObject Gpt2(SlmModel model, IReadOnlyList<PlanStep> plan, StackStep stack, List<int> order, Dictionary<string, Tensor> w, List<(string, Tensor)> t)
    {
        var width = stack.Width;
        var (attention, ffn) = (stack.Block.Attention, stack.Block.FeedForward);
        var embedding = plan.OfType<EmbeddingStep>().Single().Field;
        var positions = plan.OfType<PositionsStep>().Single();
        var final = plan.OfType<FinalNormStep>().Single().Field;
        var field = stack.Field;
        Tensor OrZeros(string name, long n) => w.TryGetValue(name, out var b) ? b : zeros(n);

        t.Add(("transformer.wte.weight", w[embedding + ".weight"]));
        t.Add(("transformer.wpe.weight", w[positions.Field + ".weight"]));
        for (var j = 0; j < order.Count; j++)
        {
            var src = $"{field}.{order[j]}.";
            var dst = $"transformer.h.{j}.";
            t.Add((dst + "ln_1.weight", w[src + "ln_1.weight"]));
            t.Add((dst + "ln_1.bias", OrZeros(src + "ln_1.bias", width)));
            var qkv = attention.PackedQkv ? w[src + "attn.qkv.weight"] : cat(new[] { w[src + "attn.q_proj.weight"], w[src + "attn.k_proj.weight"], w[src + "attn.v_proj.weight"] }, 0);
            t.Add((dst + "attn.c_attn.weight", qkv.t()));
            var qkvBias = attention.PackedQkv ? OrZeros(src + "attn.qkv.bias", 3 * width)
                : cat(new[] { OrZeros(src + "attn.q_proj.bias", width), OrZeros(src + "attn.k_proj.bias", width), OrZeros(src + "attn.v_proj.bias", width) }, 0);
            t.Add((dst + "attn.c_attn.bias", qkvBias));
            t.Add((dst + "attn.c_proj.weight", w[src + "attn.proj.weight"].t()));
            t.Add((dst + "attn.c_proj.bias", OrZeros(src + "attn.proj.bias", width)));
            t.Add((dst + "ln_2.weight", w[src + "ln_2.weight"]));
            t.Add((dst + "ln_2.bias", OrZeros(src + "ln_2.bias", width)));
            t.Add((dst + "mlp.c_fc.weight", w[src + "mlp.fc.weight"].t()));
            t.Add((dst + "mlp.c_fc.bias", OrZeros(src + "mlp.fc.bias", ffn.Hidden)));
            t.Add((dst + "mlp.c_proj.weight", w[src + "mlp.proj.weight"].t()));
            t.Add((dst + "mlp.c_proj.bias", OrZeros(src + "mlp.proj.bias", width)));
        }

        t.Add(("transformer.ln_f.weight", w[final + ".weight"]));
        t.Add(("transformer.ln_f.bias", OrZeros(final + ".bias", width)));
        return new JsonObject
        {
            ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["model_type"] = "gpt2",
            ["vocab_size"] = model.Vocab,
            ["n_positions"] = positions.Rows,
            ["n_ctx"] = positions.Rows,
            ["n_embd"] = width,
            ["n_layer"] = order.Count,
            ["n_head"] = attention.Heads,
            ["n_inner"] = ffn.Hidden,
            ["activation_function"] = "gelu",
            ["layer_norm_epsilon"] = 1e-5,
            ["resid_pdrop"] = stack.Block.ResidualDropout,
            ["attn_pdrop"] = attention.Dropout,
            ["embd_pdrop"] = plan.OfType<EmbeddingDropoutStep>().FirstOrDefault()?.Probability ?? 0.0,
        };
    }

    private static JsonObject Llama(SlmModel model, IReadOnlyList<PlanStep> plan, StackStep stack, List<int> order, Dictionary<string, Tensor> w, List<(string, Tensor)> t)
    {
        var (attention, ffn) = (stack.Block.Attention, stack.Block.FeedForward);
        long heads = attention.Heads, kv = attention.KvHeads, hd = attention.HeadDim;
        var embedding = plan.OfType<EmbeddingStep>().Single().Field;
        var final = plan.OfType<FinalNormStep>().Single().Field;
        var field = stack.Field;
        t.Add(("model.embed_tokens.weight", w[embedding + ".weight"]));
        for (var j = 0; j < order.Count; j++)
        {
            var src = $"{field}.{order[j]}.";
            var dst = $"model.layers.{j}.";
            t.Add((dst + "input_layernorm.weight", w[src + "ln_1.weight"]));
            t.Add((dst + "post_attention_layernorm.weight", w[src + "ln_2.weight"]));
            foreach (var suffix in attention.Bias ? new[] { "weight", "bias" } : new[] { "weight" })
            {
                Tensor q, k, v;
                if (attention.PackedQkv)
                {
                    var parts = w[src + "attn.qkv." + suffix].split(new[] { heads * hd, kv * hd, kv * hd }, 0);
                    (q, k, v) = (parts[0], parts[1], parts[2]);
                }
                else
                {
                    (q, k, v) = (w[src + "attn.q_proj." + suffix], w[src + "attn.k_proj." + suffix], w[src + "attn.v_proj." + suffix]);
                }

                t.Add((dst + "self_attn.q_proj." + suffix, q));
                t.Add((dst + "self_attn.k_proj." + suffix, k));
                t.Add((dst + "self_attn.v_proj." + suffix, v));
                t.Add((dst + "self_attn.o_proj." + suffix, w[src + "attn.proj." + suffix]));
            }

            foreach (var suffix in ffn.Bias ? new[] { "weight", "bias" } : new[] { "weight" })
            {
                t.Add((dst + "mlp.gate_proj." + suffix, w[src + "mlp.gate." + suffix]));
                t.Add((dst + "mlp.up_proj." + suffix, w[src + "mlp.fc." + suffix]));
                t.Add((dst + "mlp.down_proj." + suffix, w[src + "mlp.proj." + suffix]));
            }
        }

        t.Add(("model.norm.weight", w[final + ".weight"]));
        var theta = attention.Rope!.Base;
        return new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = model.Vocab,
            ["hidden_size"] = stack.Width,
            ["intermediate_size"] = ffn.Hidden,
            ["num_hidden_layers"] = order.Count,
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kv,
            ["head_dim"] = hd,
            ["max_position_embeddings"] = model.Context,
            ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = theta,
            ["rope_parameters"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = theta },
            ["attention_bias"] = attention.Bias,
            ["mlp_bias"] = ffn.Bias,
            ["attention_dropout"] = attention.Dropout,
            ["hidden_act"] = "silu",
        };
    }

    /// <summary>Which family the plan belongs to, or why none.</summary>
    private static (string? Family, string? Reason) Family(IReadOnlyList<PlanStep> plan)
    {
        string? Why()
        {
            if (plan.Any(s => s is FlattenStep or DenseStep))
            {
                return "it has flatten or dense layers (transformers' causal LMs are embedding → blocks → norm → head)";
            }

            var stacks = plan.OfType<StackStep>().ToList();
            if (stacks.Count != 1)
            {
                return $"it has {stacks.Count} transformer stacks; GPT-2 and Llama have one";
            }

            var s = stacks[0];
            if (!s.IsUniform)
            {
                return "its blocks differ in shape (layer-wise allocation); GPT-2 and Llama blocks are alike";
            }

            if (s.Block.Extensions() is { Count: > 0 } extensions)
            {
                return $"its blocks use {string.Join(", ", extensions.Select(e => e.Key))}, which GPT-2 and Llama lack";
            }

            if (s.Block.Sharing.LoraRank > 0)
            {
                return "it has per-application LoRA adapters";
            }

            if (s.UNetSkips)
            {
                return "its stack has U-Net skip connections, which GPT-2 and Llama lack";
            }

            if (plan.OfType<BigramStep>().Any())
            {
                return "it adds hashed bigram embeddings to the token embedding, which GPT-2 and Llama lack";
            }

            if (plan.OfType<HeadStep>().Single().SoftCap > 0)
            {
                return "its scores are soft-capped, which transformers' GPT-2 and Llama heads do not do";
            }

            var quantised = plan.Any(x => x switch
            {
                EmbeddingStep e => e.Bits > 0,
                DenseStep d => d.Bits > 0,
                StackStep k => k.Block.Attention.WeightBits > 0 || k.Block.FeedForward.WeightBits > 0,
                HeadStep h => h.Bits > 0,
                _ => false,
            });
            if (quantised)
            {
                return "it is trained with fake-quantised weights (QAT); ship it as an artifact (slmgen train --artifact; SlmGen.Artifacts.ArtifactFile) instead";
            }

            if (!s.Block.Norm.PreNorm)
            {
                return "its blocks are post-norm";
            }

            var head = plan.OfType<HeadStep>().Single();
            if (head.Kind == HeadKind.Grouped)
            {
                return "its head is grouped (two levels), which transformers' heads are not";
            }

            if (head.Kind == HeadKind.Factorised || head.Bias)
            {
                return "its head is factorised or has a bias (transformers' heads are one bias-free matrix)";
            }

            return null;
        }

        var reason = Why();
        if (reason is not null)
        {
            return (null, reason);
        }

        var stack = plan.OfType<StackStep>().Single();
        var (attention, norm, activation) = (stack.Block.Attention, stack.Block.Norm.Kind, stack.Block.FeedForward.Activation);
        var final = plan.OfType<FinalNormStep>().FirstOrDefault()?.Kind;
        var positions = plan.OfType<PositionsStep>().FirstOrDefault();
        var rope = attention.Rope is not null;
        if (positions is { Kind: PositionKind.Learned } && !rope && norm == NormKind.LayerNorm && final == NormKind.LayerNorm && activation == Act.Gelu)
        {
            return attention.KvHeads != attention.Heads ? (null, "it has grouped-query attention, which GPT-2 lacks")
                : attention.InnerWidth != stack.Width ? (null, "its heads × head size differ from the width, which GPT-2 requires")
                : ("gpt2", null);
        }

        if (positions is null && rope && norm == NormKind.RmsNorm && final == NormKind.RmsNorm && activation == Act.SwiGlu)
        {
            return ("llama", null);
        }

        var where = positions is { } q ? Names.Of(q.Kind) : rope ? "rope" : "none";
        return (null, $"it is neither GPT-2-shaped (learned positions, pre-LayerNorm, GELU, final LayerNorm) nor Llama-shaped (RoPE, pre-RMSNorm, SwiGLU, final RMSNorm): positions {where}, {Names.Of(norm)}, {Names.Of(activation)}, final norm {(final is { } f ? Names.Of(f) : "none")}");
    }
}
