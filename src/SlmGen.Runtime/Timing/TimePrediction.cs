namespace SlmGen.Timing;

/// <summary>The time model (<see cref="TimeModel"/>) applied to a generated model on a profiled device.</summary>
public static class TimePrediction
{
    /// <summary>A training step of <paramref name="batch"/> full windows (eager, or as one CUDA graph).</summary>
    public static PredictedTime Training(SlmModel model, DeviceProfile profile, int batch, bool graphed = false, StepRecipe? recipe = null) =>
        TimeModel.Predict(StepOps.Training(model.Plan, batch, model.Context, profile.ElementBytes, model.Cost.Parameters, profile.FusedKernels, recipe), profile, graphed, training: true);

    /// <summary>
    /// A decoding step at <paramref name="batch"/> sequences: the prefill of <paramref name="prompt"/> tokens (<paramref name="cached"/> = 0),
    /// or one new token after <paramref name="cached"/> cached positions (<paramref name="prompt"/> = 1).
    /// </summary>
    public static PredictedTime Decoding(SlmModel model, DeviceProfile profile, int batch, long prompt, long cached) => Decoding(model.Plan, profile, batch, prompt, cached, model.Context);

    /// <summary>A decoding step of a plan whose KV cache holds <paramref name="cacheCapacity"/> positions (the model's context; a prefill allocates it).</summary>
    public static PredictedTime Decoding(System.Collections.Generic.IReadOnlyList<PlanStep> plan, DeviceProfile profile, int batch, long prompt, long cached, long cacheCapacity) =>
        TimeModel.Predict(StepOps.Decoding(plan, batch, prompt, cached, profile.ElementBytes, profile.FusedKernels, cacheCapacity), profile, graphed: false, training: false, prefill: cached == 0);
}
