using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Generation;

/// <summary>
/// The precision a model decodes in: on CUDA bf16 by default, as it trains (`slmgen train`'s compute type) and as the
/// device profile's matmul rates and element bytes describe it — fp32 weights there run fp32 matmuls, which at a
/// prefill's few rows leave most of the GPU idle (GPT-2 small's 64-token prefill was predicted at the profile's bf16
/// rates and ran 1.5–2.3 ms longer); full precision on request and always on the CPU (no bf16 speed-up there).
/// </summary>
public static class DecodePrecision
{
    /// <summary>The type a model computes in when it decodes on <paramref name="device"/>.</summary>
    /// <param name="device">Where it decodes.</param>
    /// <param name="bf16">False: fp32 on CUDA too.</param>
    public static ScalarType For(Device device, bool bf16 = true) => For(device.type, bf16);

    /// <summary>The type a model computes in when it decodes on a device of <paramref name="deviceType"/>.</summary>
    /// <param name="deviceType">The kind of device it decodes on.</param>
    /// <param name="bf16">False: fp32 on CUDA too.</param>
    public static ScalarType For(DeviceType deviceType, bool bf16 = true) =>
        bf16 && deviceType == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;

    /// <summary>Moves <paramref name="model"/> to <paramref name="device"/> in the type it decodes in there (<see cref="For(Device, bool)"/>): its parameters and buffers are converted in place.</summary>
    /// <returns>The type it now computes in.</returns>
    public static ScalarType Apply(SlmModel model, Device device, bool bf16 = true)
    {
        var type = For(device, bf16);
        model.to(device);
        model.to(type);
        return type;
    }
}
