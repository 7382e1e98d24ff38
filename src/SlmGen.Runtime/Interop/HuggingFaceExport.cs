using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using SlmGen.Training;
using static TorchSharp.torch;

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
    private sealed record Step(string Kind, string Field, JsonElement Json);

    /// <summary>Why the model has no Hugging Face form, or null when it has one.</summary>
    public static string? Unsupported(SlmModel model) => Plan(model).Reason;

    /// <summary>
    /// Writes config.json, generation_config.json and model.safetensors for transformers into <paramref name="directory"/>;
    /// <paramref name="special"/> names the tokenizer's beginning- and end-of-text ids (null: none, written as null, never 0).
    /// </summary>
    /// <exception cref="NotSupportedException">The model has no Hugging Face form (the message says why).</exception>
    public static void Export(SlmModel model, string directory, SpecialTokens? special = null)
    {
        var (family, reason) = Plan(model);
        if (family is null)
        {
            throw new NotSupportedException($"{model.GetName()} has no Hugging Face form: {reason}");
        }

        using var doc = JsonDocument.Parse(model.Architecture);
        var steps = Steps(doc);
        var stack = steps.Single(s => s.Kind == "transformer").Json;
        var head = steps.Single(s => s.Kind == "head").Json;
        var tied = head.GetProperty("type").GetString() == "tied";
        var weights = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().to(ScalarType.Float32).cpu());
        var field = stack.GetProperty("field").GetString()!;
        var blocks = stack.GetProperty("blocks").GetInt32();
        var repeat = stack.GetProperty("repeat").GetInt32();
        var again = stack.GetProperty("blockRepeat").GetInt32();
        var order = new List<int>();
        for (var p = 0; p < repeat; p++)
        {
            for (var i = 0; i < blocks; i++)
            {
                for (var k = 0; k < again; k++)
                {
                    order.Add(i);
                }
            }
        }

        using var scope = NewDisposeScope();
        var tensors = new List<(string, Tensor)>();
        var config = family == "gpt2"
            ? Gpt2(model, steps, stack, order, field, weights, tied, tensors, special)
            : Llama(model, steps, stack, order, field, weights, tied, tensors, special);
        if (!tied)
        {
            tensors.Add(("lm_head.weight", weights[head.GetProperty("field").GetString()! + ".weight"]));
        }

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

    private static JsonObject Gpt2(SlmModel model, List<Step> steps, JsonElement stack, List<int> order, string field, Dictionary<string, Tensor> w, bool tied, List<(string, Tensor)> t, SpecialTokens? special)
    {
        var width = stack.GetProperty("in").GetInt64();
        var shape = stack.GetProperty("shapes")[0];
        var embedding = steps.Single(s => s.Kind == "embedding").Field;
        var positions = steps.Single(s => s.Kind == "positions");
        var final = steps.Single(s => s.Kind == "final_norm").Field;
        var packed = stack.GetProperty("packedQkv").GetBoolean();
        Tensor OrZeros(string name, long n) => w.TryGetValue(name, out var b) ? b : zeros(n);

        t.Add(("transformer.wte.weight", w[embedding + ".weight"]));
        t.Add(("transformer.wpe.weight", w[positions.Field + ".weight"]));
        for (var j = 0; j < order.Count; j++)
        {
            var src = $"{field}.{order[j]}.";
            var dst = $"transformer.h.{j}.";
            t.Add((dst + "ln_1.weight", w[src + "ln_1.weight"]));
            t.Add((dst + "ln_1.bias", OrZeros(src + "ln_1.bias", width)));
            var qkv = packed ? w[src + "attn.qkv.weight"] : cat(new[] { w[src + "attn.q_proj.weight"], w[src + "attn.k_proj.weight"], w[src + "attn.v_proj.weight"] }, 0);
            t.Add((dst + "attn.c_attn.weight", qkv.t()));
            var qkvBias = packed ? OrZeros(src + "attn.qkv.bias", 3 * width)
                : cat(new[] { OrZeros(src + "attn.q_proj.bias", width), OrZeros(src + "attn.k_proj.bias", width), OrZeros(src + "attn.v_proj.bias", width) }, 0);
            t.Add((dst + "attn.c_attn.bias", qkvBias));
            t.Add((dst + "attn.c_proj.weight", w[src + "attn.proj.weight"].t()));
            t.Add((dst + "attn.c_proj.bias", OrZeros(src + "attn.proj.bias", width)));
            t.Add((dst + "ln_2.weight", w[src + "ln_2.weight"]));
            t.Add((dst + "ln_2.bias", OrZeros(src + "ln_2.bias", width)));
            var hidden = shape[3].GetInt64();
            t.Add((dst + "mlp.c_fc.weight", w[src + "mlp.fc.weight"].t()));
            t.Add((dst + "mlp.c_fc.bias", OrZeros(src + "mlp.fc.bias", hidden)));
            t.Add((dst + "mlp.c_proj.weight", w[src + "mlp.proj.weight"].t()));
            t.Add((dst + "mlp.c_proj.bias", OrZeros(src + "mlp.proj.bias", width)));
        }

        t.Add(("transformer.ln_f.weight", w[final + ".weight"]));
        t.Add(("transformer.ln_f.bias", OrZeros(final + ".bias", width)));
        var rows = positions.Json.GetProperty("rows").GetInt64();
        var dropout = stack.GetProperty("dropout").GetDouble();
        return new JsonObject
        {
            ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["model_type"] = "gpt2",
            ["vocab_size"] = model.Vocab,
            ["n_positions"] = rows,
            ["n_ctx"] = rows,
            ["n_embd"] = width,
            ["n_layer"] = order.Count,
            ["n_head"] = shape[0].GetInt32(),
            ["n_inner"] = shape[3].GetInt64(),
            ["activation_function"] = "gelu",
            ["layer_norm_epsilon"] = 1e-5,
            ["resid_pdrop"] = dropout,
            ["attn_pdrop"] = dropout,
            ["embd_pdrop"] = EmbeddingDropout(steps),
            ["initializer_range"] = 0.02,
            ["tie_word_embeddings"] = tied,
            ["bos_token_id"] = special?.Bos,
            ["eos_token_id"] = special?.Eos,
            ["torch_dtype"] = "float32",
            ["slmgen_model"] = model.GetName(),
            ["slmgen_fingerprint"] = model.Fingerprint,
        };
    }

    private static JsonObject Llama(SlmModel model, List<Step> steps, JsonElement stack, List<int> order, string field, Dictionary<string, Tensor> w, bool tied, List<(string, Tensor)> t, SpecialTokens? special)
    {
        var shape = stack.GetProperty("shapes")[0];
        long heads = shape[0].GetInt64(), kv = shape[1].GetInt64(), hd = shape[2].GetInt64(), hidden = shape[3].GetInt64();
        var embedding = steps.Single(s => s.Kind == "embedding").Field;
        var final = steps.Single(s => s.Kind == "final_norm").Field;
        var packed = stack.GetProperty("packedQkv").GetBoolean();
        var attentionBias = stack.GetProperty("attentionBias").GetBoolean();
        var ffnBias = stack.GetProperty("ffnBias").GetBoolean();
        t.Add(("model.embed_tokens.weight", w[embedding + ".weight"]));
        for (var j = 0; j < order.Count; j++)
        {
            var src = $"{field}.{order[j]}.";
            var dst = $"model.layers.{j}.";
            t.Add((dst + "input_layernorm.weight", w[src + "ln_1.weight"]));
            t.Add((dst + "post_attention_layernorm.weight", w[src + "ln_2.weight"]));
            foreach (var suffix in attentionBias ? new[] { "weight", "bias" } : new[] { "weight" })
            {
                Tensor q, k, v;
                if (packed)
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

            foreach (var suffix in ffnBias ? new[] { "weight", "bias" } : new[] { "weight" })
            {
                t.Add((dst + "mlp.gate_proj." + suffix, w[src + "mlp.gate." + suffix]));
                t.Add((dst + "mlp.up_proj." + suffix, w[src + "mlp.fc." + suffix]));
                t.Add((dst + "mlp.down_proj." + suffix, w[src + "mlp.proj." + suffix]));
            }
        }

        t.Add(("model.norm.weight", w[final + ".weight"]));
        var theta = stack.GetProperty("ropeBase").GetDouble();
        return new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = model.Vocab,
            ["hidden_size"] = stack.GetProperty("in").GetInt64(),
            ["intermediate_size"] = hidden,
            ["num_hidden_layers"] = order.Count,
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kv,
            ["head_dim"] = hd,
            ["max_position_embeddings"] = model.Context,
            ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = theta,
            ["rope_parameters"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = theta },
            ["attention_bias"] = attentionBias,
            ["mlp_bias"] = ffnBias,
            ["attention_dropout"] = stack.GetProperty("dropout").GetDouble(),
            ["hidden_act"] = "silu",
            ["initializer_range"] = 0.02,
            ["tie_word_embeddings"] = tied,
            ["bos_token_id"] = special?.Bos,
            ["eos_token_id"] = special?.Eos,
            ["torch_dtype"] = "float32",
            ["slmgen_model"] = model.GetName(),
            ["slmgen_fingerprint"] = model.Fingerprint,
        };
    }

    private static double EmbeddingDropout(List<Step> steps) =>
        steps.FirstOrDefault(s => s.Kind == "dropout") is { } d ? d.Json.GetProperty("p").GetDouble() : 0.0;

    private static List<Step> Steps(JsonDocument doc) =>
        doc.RootElement.GetProperty("architecture").EnumerateArray()
            .Select(e => new Step(e.GetProperty("kind").GetString()!, e.GetProperty("field").GetString()!, e.Clone()))
            .ToList();

    /// <summary>Which family the model belongs to, or why none.</summary>
    private static (string? Family, string? Reason) Plan(SlmModel model)
    {
        using var doc = JsonDocument.Parse(model.Architecture);
        var steps = Steps(doc);
        var kinds = steps.Select(s => s.Kind).ToList();
        string? Why()
        {
            if (kinds.Contains("flatten") || kinds.Contains("dense"))
            {
                return "it has flatten or dense layers (transformers' causal LMs are embedding → blocks → norm → head)";
            }

            var stacks = steps.Where(s => s.Kind == "transformer").ToList();
            if (stacks.Count != 1)
            {
                return $"it has {stacks.Count} transformer stacks; GPT-2 and Llama have one";
            }

            var s = stacks[0].Json;
            var shapes = s.GetProperty("shapes").EnumerateArray().Select(x => x.GetRawText()).Distinct().Count();
            if (shapes > 1)
            {
                return "its blocks differ in shape (layer-wise allocation); GPT-2 and Llama blocks are alike";
            }

            if (s.GetProperty("loraRank").GetInt32() > 0)
            {
                return "it has per-application LoRA adapters";
            }

            if (s.GetProperty("attentionBits").GetInt32() > 0 || s.GetProperty("mlpBits").GetInt32() > 0 ||
                steps.Any(x => x.Json.TryGetProperty("bits", out var b) && b.GetInt32() > 0))
            {
                return "it is trained with fake-quantised weights (QAT); export its weights with QuantizedExport instead";
            }

            if (!s.GetProperty("preNorm").GetBoolean())
            {
                return "its blocks are post-norm";
            }

            var head = steps.Single(x => x.Kind == "head").Json;
            if (head.GetProperty("type").GetString() == "grouped")
            {
                return "its head is grouped (two levels), which transformers' heads are not";
            }

            if (head.GetProperty("type").GetString() == "factorised" || head.GetProperty("bias").GetBoolean())
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

        var stack = steps.Single(x => x.Kind == "transformer").Json;
        var shape = stack.GetProperty("shapes")[0];
        var norm = stack.GetProperty("norm").GetString();
        var activation = stack.GetProperty("activation").GetString();
        var final = steps.FirstOrDefault(x => x.Kind == "final_norm")?.Json.GetProperty("norm").GetString();
        var positions = steps.FirstOrDefault(x => x.Kind == "positions")?.Json;
        var rope = stack.GetProperty("rope").GetBoolean();
        if (positions is { } p && p.GetProperty("type").GetString() == "learned" && !rope && norm == "layernorm" && final == "layernorm" && activation == "gelu")
        {
            return shape[0].GetInt64() != shape[1].GetInt64() ? (null, "it has grouped-query attention, which GPT-2 lacks")
                : shape[0].GetInt64() * shape[2].GetInt64() != stack.GetProperty("in").GetInt64() ? (null, "its heads × head size differ from the width, which GPT-2 requires")
                : ("gpt2", null);
        }

        if (positions is null && rope && norm == "rmsnorm" && final == "rmsnorm" && activation == "swiglu")
        {
            return ("llama", null);
        }

        return (null, $"it is neither GPT-2-shaped (learned positions, pre-LayerNorm, GELU, final LayerNorm) nor Llama-shaped (RoPE, pre-RMSNorm, SwiGLU, final RMSNorm): positions {(positions is { } q ? q.GetProperty("type").GetString() : rope ? "rope" : "none")}, {norm}, {activation}, final norm {final ?? "none"}");
    }
}
