// Every test starts slmgen processes that train on the machine's cores: one at a time, or they only contend.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
