//! Where a run over many devices hands each diagnosed device: a [`DeviceSink`] (a summary, a
//! renderer, a collector), one device at a time.

use super::DeviceOutcome;
use crate::device::sources::DeviceRef;

/// Where the diagnosed devices go, one at a time.
pub trait DeviceSink {
    /// One device, diagnosed: every distinct device once, in input order.
    fn device(&mut self, device: &FleetDevice);

    /// A later input holding a device already handed on (the same Entra DeviceId): it is not
    /// diagnosed again.
    fn duplicate(&mut self, _duplicate: &Duplicate) {}
}

/// Both sinks see every device: `(summary, renderer)`.
impl<A: DeviceSink, B: DeviceSink> DeviceSink for (A, B) {
    fn device(&mut self, device: &FleetDevice) {
        self.0.device(device);
        self.1.device(device);
    }

    fn duplicate(&mut self, duplicate: &Duplicate) {
        self.0.duplicate(duplicate);
        self.1.duplicate(duplicate);
    }
}

/// One device of a run, diagnosed.
#[derive(Debug, Clone)]
pub struct FleetDevice {
    /// Its place among the run's distinct devices, in input order (0, 1, 2, …).
    pub ordinal: usize,
    /// Where it was read ([`DeviceSources::read`] can read that member alone again).
    ///
    /// [`DeviceSources::read`]: crate::device::sources::DeviceSources::read
    pub at: DeviceRef,
    /// The path it was read from.
    pub input: String,
    /// Whether the run is over more than one device: its diagnosis then names its input.
    pub fleet: bool,
    pub outcome: DeviceOutcome,
}

/// A device read a second time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The ordinal of the device first read with this DeviceId.
    pub of: usize,
    pub device_id: String,
    /// This copy's label (usually the first one's) and input path.
    pub device: String,
    pub input: String,
    pub at: DeviceRef,
}

/// A closure as a sink: `FnSink(|d: &FleetDevice| …)` (duplicates are ignored).
pub struct FnSink<F>(pub F);

impl<F: FnMut(&FleetDevice)> DeviceSink for FnSink<F> {
    fn device(&mut self, device: &FleetDevice) {
        (self.0)(device);
    }
}
