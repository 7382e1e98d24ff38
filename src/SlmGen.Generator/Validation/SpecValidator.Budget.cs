using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using SlmGen.Generator.Diagnostics;
using SlmGen.Generator.Model;
using SlmGen.Generator.Costing;
using SlmGen.Generator.Planning;

namespace SlmGen.Generator.Validation;

/// <summary>Budgets: limits non-negative, the training length declared once and representable.</summary>
internal static partial class SpecValidator
{
    private static void Budget(Checks v, ModelSpec spec)
    {
        var b = spec.Budget;
        v.NonNegative(SpecKeys.Budgets("max_parameters"), b.MaxParameters);
        v.NonNegative(SpecKeys.Budgets("max_forward_flops_per_token"), b.MaxForwardFlopsPerToken);
        v.NonNegative(SpecKeys.Budgets("training_tokens"), b.TrainingTokens);
        v.NonNegative(SpecKeys.Budgets("training_characters"), b.TrainingCharacters);
        if (spec.Has(SpecKeys.Budgets("characters_per_token")) && !(b.CharactersPerToken >= 1e-3 && b.CharactersPerToken <= 1e6))
        {
            // A real tokenizer's compression lies far inside this range; outside it the derived figures overflow.
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Budgets("characters_per_token"), spec.Display(SpecKeys.Budgets("characters_per_token")), Format(b.CharactersPerToken), "from 0.001 to 1,000,000 characters per token");
        }
        else if (b.TrainingCharacters > 0 && b.CharactersPerToken > 0 && b.TrainingCharacters / b.CharactersPerToken >= 9e18)
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Budgets("training_characters"), spec.Display(SpecKeys.Budgets("training_characters")), Format(b.TrainingCharacters),
                $"at most {Format(Math.Floor(9e18 * b.CharactersPerToken))} at {Format(b.CharactersPerToken)} characters per token, so that the training tokens fit 64-bit arithmetic");
        }

        if (b.TrainingCharacters > 0 && b.TrainingTokens > 0)
        {
            v.Add(DiagnosticDescriptors.Conflict, SpecKeys.Budgets("training_characters"), "Declare the training length once: in tokens (training_tokens) or in characters (training_characters)");
        }
        else if (b.TrainingCharacters > 0 && !(b.CharactersPerToken > 0) && spec.Tokenizer != "chars")
        {
            v.Add(DiagnosticDescriptors.Conflict, SpecKeys.Budgets("training_characters"), "A training length in characters needs the tokenizer's compression: declare characters_per_token (slmgen tokenizer stats measures it), or tokenizer: chars");
        }
        v.NonNegative(SpecKeys.Budgets("max_weight_bytes"), b.MaxWeightBytes);
        v.NonNegative(SpecKeys.Budgets("max_kv_cache_bytes"), b.MaxKvCacheBytes);
        foreach (var (key, seconds, example) in new[] { ("max_training_time", b.MaxTrainingSeconds, "90s, 45m, 2h or 1.5d"), ("max_decode_latency", b.MaxDecodeSeconds, "800us, 5ms or 0.2s") })
        {
            if (double.IsNaN(seconds))
            {
                v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Budgets(key), spec.Display(SpecKeys.Budgets(key)), "not a duration", "a positive duration with its unit: " + example);
            }
        }
        if (b.MaxTrainingFlops < 0 || double.IsNaN(b.MaxTrainingFlops) || double.IsInfinity(b.MaxTrainingFlops))
        {
            v.Add(DiagnosticDescriptors.OutOfRange, SpecKeys.Budgets("max_training_flops"), spec.Display(SpecKeys.Budgets("max_training_flops")), Format(b.MaxTrainingFlops), "a positive number");
        }
    }
}
