//! The application: binds the listener first (so tests can use port 0 and learn the port),
//! wires storage, health, reflection and the services, and runs until told to stop.

use std::{future::Future, net::SocketAddr, time::Duration};

use tokio::{net::TcpListener, sync::oneshot};
use tonic::{
    server::NamedService,
    transport::{Server, server::TcpIncoming},
};
use tonic_health::{ServingStatus, server::HealthReporter};

use crate::{
    config::Settings,
    domain::scoring::{DocumentError, ScoringModel, default_models},
    grpc::{
        access_log::AccessLogLayer, assessments::AssessmentApi, auth::AuthLayer,
        customers::CustomerApi, figures::FiguresApi, models::ScoringModelApi,
        operations::OperationsApi, outcomes::OutcomeApi, portfolio::PortfolioApi,
    },
    proto::{
        FILE_DESCRIPTOR_SET,
        custgrade::v1::{
            assessment_service_server::AssessmentServiceServer,
            customer_service_server::CustomerServiceServer,
            figures_service_server::FiguresServiceServer,
            outcome_service_server::OutcomeServiceServer,
            portfolio_service_server::PortfolioServiceServer,
            scoring_model_service_server::ScoringModelServiceServer,
        },
        google::longrunning::operations_server::OperationsServer,
    },
    regrade::Regrader,
    storage::{StorageError, Store},
};

/// The services whose health follows the database's.
const SERVICES: &[&str] = &[
    "",
    <CustomerServiceServer<CustomerApi> as NamedService>::NAME,
    <FiguresServiceServer<FiguresApi> as NamedService>::NAME,
    <AssessmentServiceServer<AssessmentApi> as NamedService>::NAME,
    <ScoringModelServiceServer<ScoringModelApi> as NamedService>::NAME,
    <PortfolioServiceServer<PortfolioApi> as NamedService>::NAME,
    <OutcomeServiceServer<OutcomeApi> as NamedService>::NAME,
    <OperationsServer<OperationsApi> as NamedService>::NAME,
];

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("default scoring models: {0}")]
    DefaultModels(#[from] DocumentError),
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("serving: {0}")]
    Serve(#[from] tonic::transport::Error),
}

pub struct Application {
    listener: TcpListener,
    store: Store,
    settings: Settings,
    /// Published on first start, when the database has no model yet.
    default_models: [ScoringModel; 2],
}

impl Application {
    /// Binds the listen address and prepares the database pool; nothing is served yet.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let addr = settings.listen_addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        let store = Store::connect_lazy(&settings.store_options()).await?;
        Ok(Self {
            listener,
            store,
            settings,
            default_models: default_models()?,
        })
    }

    /// The address actually bound (the port is real when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.settings.listen_addr)
    }

    /// Serves until `shutdown` completes, then drains: health turns NOT_SERVING first, calls
    /// in flight may finish within the shutdown timeout, and the database pool is closed.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), StartupError> {
        let (health, health_service) = tonic_health::server::health_reporter();
        set_health(&health, ServingStatus::NotServing).await;
        let monitor = tokio::spawn(watch_database(
            self.store.clone(),
            self.default_models.clone(),
            health.clone(),
            self.settings.health_check_interval,
        ));

        // Runs re-grades started here, and takes over those nobody holds.
        let regrader = Regrader::new(self.store.clone());
        regrader.watch_orphans();

        let reflection_v1 = reflection().build_v1()?;
        let reflection_v1alpha = reflection().build_v1alpha()?;

        if self.settings.api_keys.is_empty() {
            tracing::warn!("no api keys configured: every caller is allowed every method");
        } else {
            tracing::info!(keys = self.settings.api_keys.len(), "api keys configured");
        }
        tracing::info!(addr = %self.local_addr(), "serving gRPC");

        let (stop_serving, serving_stopped) = oneshot::channel::<()>();
        let server = Server::builder()
            .layer(AccessLogLayer)
            .layer(AuthLayer::new(self.settings.api_keys.clone()))
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(CustomerServiceServer::new(CustomerApi::new(
                self.store.clone(),
            )))
            .add_service(FiguresServiceServer::new(FiguresApi::new(
                self.store.clone(),
            )))
            .add_service(AssessmentServiceServer::new(AssessmentApi::new(
                self.store.clone(),
            )))
            .add_service(ScoringModelServiceServer::new(ScoringModelApi::new(
                self.store.clone(),
            )))
            .add_service(PortfolioServiceServer::new(PortfolioApi::new(
                self.store.clone(),
                regrader.clone(),
            )))
            .add_service(OperationsServer::new(OperationsApi::new(
                self.store.clone(),
            )))
            .add_service(OutcomeServiceServer::new(OutcomeApi::new(
                self.store.clone(),
            )))
            // Without TCP_NODELAY a small response waits for the peer's delayed ACK (about
            // 40 ms on Linux): the load benchmark measured every call at that floor.
            .serve_with_incoming_shutdown(
                TcpIncoming::from(self.listener).with_nodelay(Some(true)),
                async {
                    let _ = serving_stopped.await;
                },
            );
        tokio::pin!(server);

        tokio::select! {
            result = &mut server => {
                monitor.abort();
                regrader.shutdown(self.settings.shutdown_timeout).await;
                return result.map_err(StartupError::from);
            }
            () = shutdown => {}
        }

        tracing::info!("shutting down: health set to NOT_SERVING");
        monitor.abort();
        set_health(&health, ServingStatus::NotServing).await;
        // Still serving while load balancers notice the NOT_SERVING status.
        if let Err(_elapsed) = tokio::time::timeout(self.settings.shutdown_delay, &mut server).await
        {
            tracing::info!("draining calls in flight");
        }
        let _ = stop_serving.send(());
        let result = match tokio::time::timeout(self.settings.shutdown_timeout, server).await {
            Ok(result) => result.map_err(StartupError::from),
            Err(_) => {
                tracing::warn!("drain timed out; calls still in flight were dropped");
                Ok(())
            }
        };
        // Re-grades stop at a batch boundary and are released for the next server.
        regrader.shutdown(self.settings.shutdown_timeout).await;
        self.store.close().await;
        tracing::info!("stopped");
        result
    }
}

/// Reflection over every service this server offers. Both protocol versions list both
/// reflection services: grpcurl 1.8 and many GUI clients speak only `v1alpha`.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .include_reflection_service(false)
        .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
}

async fn set_health(health: &HealthReporter, status: ServingStatus) {
    for service in SERVICES {
        health.set_service_status(*service, status).await;
    }
}

/// Keeps health true to the database: prepares it (migrations, default models) as soon as it
/// can be reached, then checks it every `interval` and reports SERVING or NOT_SERVING.
async fn watch_database(
    store: Store,
    defaults: [ScoringModel; 2],
    health: HealthReporter,
    interval: Duration,
) {
    let mut serving = false;
    loop {
        let reachable = if store.is_schema_ready() {
            store.ping().await
        } else {
            store.prepare(&defaults).await
        };
        match (reachable, serving) {
            (Ok(()), false) => {
                tracing::info!(backend = ?store.backend(), "database reachable: serving");
                set_health(&health, ServingStatus::Serving).await;
                serving = true;
            }
            (Err(error), true) => {
                tracing::warn!(%error, "database unreachable: not serving");
                set_health(&health, ServingStatus::NotServing).await;
                serving = false;
            }
            (Err(error), false) => {
                tracing::warn!(error = ?error, "database not ready yet");
            }
            (Ok(()), true) => {}
        }
        tokio::time::sleep(interval).await;
    }
}
