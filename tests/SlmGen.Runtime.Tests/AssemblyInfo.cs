// torch's generators (weights, dropout) and its thread pool are process-wide: tests that seed them and
// compare runs must not interleave with others, and on a 2-core machine parallel TorchSharp tests only
// contend for the same cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
