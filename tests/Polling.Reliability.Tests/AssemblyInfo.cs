// The suite counts this process's descriptors and raises its descriptor limit: tests run one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
