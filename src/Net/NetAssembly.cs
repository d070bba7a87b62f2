// Polling.Net: non-blocking sockets and pipes as Polling sources (see issue "Polling.Net").
[assembly: System.CLSCompliant(false)]
