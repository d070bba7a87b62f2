using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Polling.Services;
using Polling.Services.Http;
using Xunit;

namespace Services.Tests;

/// <summary>Each filter alone, in-process: no loop, no network, no real time.</summary>
public class FilterTests
{
    [Fact]
    public void AndThen_composes_filters_in_order_and_types_change_through_them()
    {
        var trace = new List<string>();
        var auth = new BearerAuthenticationFilter(new Dictionary<string, string> { ["t"] = "ann" });
        Service<AuthenticatedRequest, HttpResponse> whoami = Service.From((AuthenticatedRequest r) =>
        {
            trace.Add("service");
            return new ValueTask<HttpResponse>(HttpResponse.Text(200, r.User));
        });
        var tracing = new TracingFilter<HttpRequest, HttpResponse>("outer", trace);
        var inner = new TracingFilter<AuthenticatedRequest, HttpResponse>("inner", trace);

        // Filter<HttpRequest, HttpResponse, HttpRequest, HttpResponse> then the type-changing one, then a filter on the new type.
        Filter<HttpRequest, HttpResponse, AuthenticatedRequest, HttpResponse> stack = tracing.AndThen(auth).AndThen(inner);
        Service<HttpRequest, HttpResponse> service = stack.AndThen(whoami);

        HttpResponse response = service.InvokeAsync(HttpRequest.Get("/", ("Authorization", "Bearer t"))).Result;

        Assert.Equal("ann", response.BodyText);
        Assert.Equal(["outer", "inner", "service"], trace);
    }

    [Fact]
    public void Authentication_rejects_a_missing_or_unknown_token_with_401_and_never_calls_the_service()
    {
        var auth = new BearerAuthenticationFilter(new Dictionary<string, string> { ["demo"] = "demo-user" });
        var behind = new HeldService<AuthenticatedRequest, HttpResponse>();
        Service<HttpRequest, HttpResponse> guarded = auth.AndThen(behind);

        HttpResponse none = guarded.InvokeAsync(HttpRequest.Get("/x")).Result;
        HttpResponse wrong = guarded.InvokeAsync(HttpRequest.Get("/x", ("Authorization", "Bearer nope"))).Result;
        HttpResponse basic = guarded.InvokeAsync(HttpRequest.Get("/x", ("Authorization", "Basic ZGVtbw=="))).Result;

        Assert.All([none, wrong, basic], r => Assert.Equal(401, r.Status));
        Assert.Equal("WWW-Authenticate: Bearer", none.ExtraHeaders);
        Assert.Equal(0, behind.Calls);
        Assert.Equal(3, auth.Rejected);
    }

    [Fact]
    public void Authentication_hands_the_next_service_an_AuthenticatedRequest_with_the_user()
    {
        LikeALoopThread();
        var auth = new BearerAuthenticationFilter(new Dictionary<string, string> { ["demo"] = "demo-user" });
        var behind = new HeldService<AuthenticatedRequest, HttpResponse>();
        ValueTask<HttpResponse> answer = auth.AndThen(behind).InvokeAsync(HttpRequest.Get("/x", ("authorization", "Bearer demo")));

        AuthenticatedRequest seen = behind.Answer(_ => HttpResponse.Pong);
        Assert.Equal("demo-user", seen.User);
        Assert.Equal("/x", seen.Request.Path);
        Assert.Equal(200, answer.AsTask().Result.Status);
    }

    [Fact]
    public void Timeout_fails_with_TimeoutException_when_the_timer_passes_the_deadline()
    {
        LikeALoopThread();
        var timer = new ManualTimer();
        var timeout = new TimeoutFilter<string, string>(TimeSpan.FromSeconds(1), timer);
        var slow = new HeldService<string, string>();

        Task<string> answer = timeout.InvokeAsync("q", slow).AsTask();
        timer.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(answer.IsCompleted);
        timer.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(answer.IsFaulted);
        Assert.IsType<TimeoutException>(answer.Exception!.InnerException);
        Assert.Equal(1, timeout.TimedOut);

        slow.Answer(_ => "late"); // a late answer changes nothing
        Assert.True(answer.IsFaulted);
    }

    [Fact]
    public void Timeout_passes_an_answer_that_comes_in_time_and_cancels_its_timer()
    {
        LikeALoopThread();
        var timer = new ManualTimer();
        var timeout = new TimeoutFilter<string, string>(TimeSpan.FromSeconds(1), timer);
        var slow = new HeldService<string, string>();

        Task<string> answer = timeout.InvokeAsync("q", slow).AsTask();
        Assert.Equal(1, timer.Pending);
        slow.Answer(r => r + "!");

        Assert.Equal("q!", answer.Result);
        Assert.Equal(0, timer.Pending);
        timer.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, timeout.TimedOut);
    }

    [Fact]
    public void Timeout_schedules_nothing_and_allocates_nothing_for_an_answer_that_is_already_there()
    {
        var timer = new ManualTimer();
        var service = new TimeoutFilter<string, string>(TimeSpan.FromSeconds(1), timer).AndThen(Echo.Service);
        for (int i = 0; i < 100; i++)
        {
            _ = service.InvokeAsync("x").Result; // warm up
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            _ = service.InvokeAsync("x").Result;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0, timer.Pending);
    }

    [Fact]
    public void Stats_count_requests_failures_pending_and_latency()
    {
        LikeALoopThread();
        var stats = new ServiceStats("s");
        var held = new HeldService<string, string>();
        var counted = new StatsFilter<string, string>(stats, r => r == "bad").AndThen(held);

        Task<string> a = counted.InvokeAsync("a").AsTask();
        Task<string> b = counted.InvokeAsync("b").AsTask();
        Task<string> c = counted.InvokeAsync("c").AsTask();
        Assert.Equal(3, stats.Requests);
        Assert.Equal(3, stats.Pending);

        held.Answer(r => r);
        held.Answer(_ => "bad");
        held.Fail(new InvalidOperationException("boom"));

        Assert.Equal("a", a.Result);
        Assert.Equal("bad", b.Result);
        Assert.True(c.IsFaulted);
        Assert.Equal(0, stats.Pending);
        Assert.Equal(2, stats.Failures);
        Assert.Equal(3, stats.Latency.Count);
        Assert.True(stats.Latency.Percentile(1.0) > TimeSpan.Zero);
    }

    [Fact]
    public void Stats_of_synchronous_answers_allocate_nothing()
    {
        var stats = new ServiceStats("s");
        var counted = new StatsFilter<string, string>(stats).AndThen(Echo.Service);
        for (int i = 0; i < 100; i++)
        {
            _ = counted.InvokeAsync("x").Result;
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            _ = counted.InvokeAsync("x").Result;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_100, stats.Requests);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    [InlineData(1500, 11)]
    [InlineData(2_000_000, 21)]
    public void Latency_buckets_are_powers_of_two_microseconds(long microseconds, int bucket)
    {
        var histogram = new LatencyHistogram();
        histogram.Record(TimeSpan.FromMicroseconds(microseconds));
        Assert.Equal(1, histogram[bucket]);
    }

    [Fact]
    public void RetryBudget_allows_the_percentage_of_deposits_plus_the_reserve()
    {
        long now = 0;
        var budget = new RetryBudget(percentCanRetry: 0.2, minRetriesPerSecond: 0, nowMilliseconds: () => now);
        Assert.False(budget.TryWithdraw());
        for (int i = 0; i < 10; i++)
        {
            budget.Deposit();
        }

        Assert.Equal(2, budget.Balance);
        Assert.True(budget.TryWithdraw());
        Assert.True(budget.TryWithdraw());
        Assert.False(budget.TryWithdraw());

        var reserved = new RetryBudget(percentCanRetry: 0.2, minRetriesPerSecond: 1, ttl: TimeSpan.FromSeconds(5), nowMilliseconds: () => now);
        Assert.Equal(5, reserved.Balance); // 1 per second of a 5 s window, with no traffic at all
    }

    [Fact]
    public void RetryBudget_forgets_deposits_older_than_its_ttl()
    {
        long now = 100_000;
        var budget = new RetryBudget(percentCanRetry: 1.0, minRetriesPerSecond: 0, ttl: TimeSpan.FromSeconds(3), nowMilliseconds: () => now);
        for (int i = 0; i < 4; i++)
        {
            budget.Deposit();
        }

        now += 2_000;
        Assert.Equal(4, budget.Balance);
        now += 1_000;
        Assert.Equal(0, budget.Balance);
    }

    [Property(MaxTest = 200)]
    public Property RetryBudget_never_pays_for_more_than_percent_of_requests_plus_reserve()
    {
        // Any interleaving of requests (true) and retry attempts (false) within one window.
        return Prop.ForAll(Gen.ListOf(Gen.Elements(true, false)).ToArbitrary(), (List<bool> script) =>
        {
            long now = 0;
            var budget = new RetryBudget(percentCanRetry: 0.25, minRetriesPerSecond: 2, ttl: TimeSpan.FromSeconds(2), nowMilliseconds: () => now);
            int requests = 0, retries = 0;
            foreach (bool isRequest in script)
            {
                if (isRequest)
                {
                    budget.Deposit();
                    requests++;
                }
                else if (budget.TryWithdraw())
                {
                    retries++;
                }
            }

            return retries <= (requests / 4) + 4 && budget.Balance >= 0;
        });
    }

    [Fact]
    public void Retry_retries_retryable_failures_until_an_attempt_succeeds()
    {
        var flaky = new FlakyService(2, () => new RejectedException("queue full"));
        var retry = new RetryFilter<string, string>(new RetryBudget(), maxRetries: 3);

        Assert.Equal("x", retry.AndThen(flaky).InvokeAsync("x").AsTask().Result);
        Assert.Equal(3, flaky.Calls);
        Assert.Equal(2, retry.Retries);
    }

    [Fact]
    public void Retry_gives_up_after_maxRetries_and_never_retries_other_failures()
    {
        var always = new FlakyService(100, () => new RejectedException("down"));
        var retry = new RetryFilter<string, string>(new RetryBudget(), maxRetries: 2);
        Task<string> failed = retry.AndThen(always).InvokeAsync("x").AsTask();
        Assert.IsType<RejectedException>(Assert.Throws<AggregateException>(() => failed.Result).InnerException);
        Assert.Equal(3, always.Calls);

        var bug = new FlakyService(1, () => new InvalidOperationException("bug"));
        Task<string> notRetried = retry.AndThen(bug).InvokeAsync("x").AsTask();
        Assert.IsType<InvalidOperationException>(Assert.Throws<AggregateException>(() => notRetried.Result).InnerException);
        Assert.Equal(1, bug.Calls);
    }

    [Fact]
    public void Retry_stops_when_the_budget_is_spent()
    {
        long now = 0;
        var budget = new RetryBudget(percentCanRetry: 0.5, minRetriesPerSecond: 0, nowMilliseconds: () => now);
        var retry = new RetryFilter<string, string>(budget, maxRetries: 5);
        var always = new FlakyService(1000, () => new ConnectionFailedException(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1), "reset"));
        Service<string, string> service = retry.AndThen(always);

        for (int i = 0; i < 10; i++)
        {
            _ = service.InvokeAsync("x").AsTask().Exception;
        }

        // 10 requests at 50 %: 5 retries in all, not 50.
        Assert.Equal(5, retry.Retries);
        Assert.Equal(15, always.Calls);
        Assert.True(retry.BudgetExhausted > 0);
    }

    /// <summary>
    /// No synchronization context, as on a loop thread: continuations then run where the task completes (xunit
    /// installs a context that would move them to other threads and race with the assertions).
    /// </summary>
    private static void LikeALoopThread() => SynchronizationContext.SetSynchronizationContext(null);

    private sealed class TracingFilter<TRequest, TResponse>(string name, List<string> trace) : Filter<TRequest, TResponse>
    {
        public override ValueTask<TResponse> InvokeAsync(TRequest request, Service<TRequest, TResponse> next)
        {
            trace.Add(name);
            return next.InvokeAsync(request);
        }
    }
}
